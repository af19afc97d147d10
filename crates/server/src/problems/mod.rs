//! Problem management use cases the API, the pages and the demo share: every change of a
//! problem — with its audit entry and notification events written in the change's
//! transaction — linking incidents and applying a known error under need-to-know. Whether
//! a fix needs a security review, and the check a reviewer is shown, are in
//! `problem_check.rs` (re-exported here).

pub mod api;
pub mod check;
pub mod pages;

pub use crate::problems::check::needs_review;

pub use crate::problems::check::needs_review_of;

pub use crate::problems::check::security_check;

use custos_core::account::Role;
use custos_core::authz::{Actor, Principal};
use custos_core::notify::{Event, EventKind};
use custos_core::problem::{
    FixKind, Problem, ProblemError, ProblemFields, ProblemPatch, ReviewInput,
};
use custos_core::store::{ProblemWrite, Store};
use custos_core::ticket::{CommStatus, Note, NoteInput, Viewer};
use custos_core::{CiId, IncidentId, StoreError, Timestamp, UserId};

/// The need-to-know viewer of a caller (incidents linked to problems).
pub fn viewer(p: &Principal) -> Viewer {
    Viewer::new(p.user_id, &p.roles, false)
}

/// The HTTP meaning of a refused problem action.
pub fn problem_error(e: ProblemError) -> custos_core::Error {
    match e {
        ProblemError::Invalid(d) => d.into(),
        ProblemError::State(m) => custos_core::Error::Conflict(m),
        ProblemError::ReviewRequired(_) => custos_core::Error::ReviewRequired(e.to_string()),
    }
}

fn store_error(e: StoreError) -> custos_core::Error {
    match e {
        StoreError::Conflict { constraint } if constraint == "problem_version" => {
            custos_core::Error::Conflict(
                "someone changed this problem in the meantime; reload it and try again".into(),
            )
        }
        other => other.into(),
    }
}

/// An event about a problem.
fn event(
    kind: EventKind,
    p: &Problem,
    subject: String,
    users: Vec<UserId>,
    roles: Vec<Role>,
) -> Event {
    Event {
        kind,
        entity_type: "problem".into(),
        entity_id: p.id.to_string(),
        reference: p.reference.clone(),
        body: format!("{}\n\n{}", p.title, subject),
        subject,
        users,
        roles,
        // A problem that introduces security risk is a security matter: webhooks get only
        // its reference.
        confidential: p.introduces_security_risk,
    }
}

fn risk_event(p: &Problem) -> Event {
    event(
        EventKind::SecurityRisk,
        p,
        "A problem is marked as introducing security risk; the security manager is involved and every fix needs a security review.".into(),
        vec![],
        vec![Role::SecurityManager],
    )
}

fn assigned_event(p: &Problem, to: UserId) -> Event {
    event(
        EventKind::Assigned,
        p,
        "A problem was assigned to you.".into(),
        vec![to],
        vec![],
    )
}

/// Checks that a named service is a business service.
async fn check_service(store: &dyn Store, service: Option<CiId>) -> custos_core::Outcome<()> {
    if let Some(s) = service {
        let r = store.ci(s).await.map_err(|e| match e {
            StoreError::NotFound { .. } => custos_core::Error::validation("service", "no such CI"),
            other => other.into(),
        })?;
        if r.ci.ci_type != "business_service" {
            return Err(custos_core::Error::validation(
                "service",
                "must be a business service",
            ));
        }
    }
    Ok(())
}

/// Checks that named CIs and the assignee exist (the form's mistake, not a missing page).
async fn check_refs(
    store: &dyn Store,
    cis: Option<&[CiId]>,
    assignee: Option<UserId>,
) -> custos_core::Outcome<()> {
    if let Some(cis) = cis.filter(|c| !c.is_empty()) {
        let found = store.cis_by_ids(cis).await?;
        if let Some(missing) = cis.iter().find(|c| !found.iter().any(|r| r.ci.id == **c)) {
            return Err(custos_core::Error::validation(
                "cis",
                format!("there is no CI {missing}"),
            ));
        }
    }
    if let Some(a) = assignee {
        store.user(a).await.map_err(|e| match e {
            StoreError::NotFound { .. } => {
                custos_core::Error::validation("assignee", "no such user")
            }
            other => other.into(),
        })?;
    }
    Ok(())
}

async fn save(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    after: Problem,
    action: &'static str,
    events: Vec<Event>,
    review: Option<custos_core::problem::Review>,
) -> custos_core::Outcome<Problem> {
    let mut changes =
        custos_core::audit::diff(Some(&before.audit_view()), Some(&after.audit_view()));
    if let Some(r) = &review
        && let Some(obj) = changes.as_object_mut()
    {
        obj.insert(
            "review".into(),
            serde_json::json!({
                "fix": r.fix.as_str(),
                "decision": r.decision.as_str(),
                "sla_requirements_met": r.sla_requirements_met,
                "baseline_met": r.baseline_met,
                "text_sha256": r.text_sha256,
                "reasons_sha256": custos_core::secret::sha256_hex(r.reasons.as_bytes()),
                "checked_cis": r.check.cis.iter().map(|c| c.ci).collect::<Vec<_>>(),
                "checked_services": r.check.services.iter().map(|s| s.service).collect::<Vec<_>>(),
            }),
        );
    }
    let w = ProblemWrite {
        problem: after,
        actor: actor.clone(),
        audit_action: action,
        changes,
        events,
        review,
    };
    store
        .save_problem(w, before.updated_at)
        .await
        .map_err(store_error)
}

pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    fields: ProblemFields,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let fields = fields.validate()?;
    check_service(store, fields.service).await?;
    check_refs(store, Some(&fields.cis), fields.assignee).await?;
    let p = Problem::new(fields, actor.user_id(), now);
    let mut events = vec![];
    if p.introduces_security_risk {
        events.push(risk_event(&p));
    }
    if let Some(a) = p.assignee.filter(|a| Some(*a) != actor.user_id()) {
        events.push(assigned_event(&p, a));
    }
    let changes = custos_core::audit::diff(None, Some(&p.audit_view()));
    let w = ProblemWrite {
        problem: p,
        actor: actor.clone(),
        audit_action: "problem.create",
        changes,
        events,
        review: None,
    };
    Ok(store.create_problem(w).await?)
}

pub async fn update(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    patch: ProblemPatch,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let patch = patch.validate()?;
    if let Some(s) = patch.service {
        check_service(store, s).await?;
    }
    check_refs(store, patch.cis.as_deref(), patch.assignee.flatten()).await?;
    let risk = patch
        .introduces_security_risk
        .unwrap_or(before.introduces_security_risk);
    let needs = needs_review_of(store, &before.affected_after(&patch), risk).await?;
    let mut after = before.clone();
    after
        .apply_patch(patch, needs, now)
        .map_err(problem_error)?;
    let mut events = vec![];
    if after.introduces_security_risk && !before.introduces_security_risk {
        events.push(risk_event(&after));
    }
    if let Some(a) = after
        .assignee
        .filter(|a| after.assignee != before.assignee && Some(*a) != actor.user_id())
    {
        events.push(assigned_event(&after, a));
    }
    save(store, actor, before, after, "problem.update", events, None).await
}

pub async fn set_text(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    kind: FixKind,
    text: &str,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let mut after = before.clone();
    if !after
        .set_fix_text(kind, text, actor.user_id(), now)
        .map_err(problem_error)?
    {
        return Ok(after);
    }
    let action = match kind {
        FixKind::Workaround => "problem.workaround.edit",
        FixKind::Solution => "problem.solution.edit",
    };
    save(store, actor, before, after, action, vec![], None).await
}

pub async fn submit(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    kind: FixKind,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let mut after = before.clone();
    after
        .submit(kind, actor.user_id(), now)
        .map_err(problem_error)?;
    let e = event(
        EventKind::ApprovalRequested,
        &after,
        format!(
            "The {} of {} waits for your security review.",
            kind.as_str(),
            after.reference
        ),
        vec![],
        vec![Role::SecurityManager],
    );
    let action = match kind {
        FixKind::Workaround => "problem.workaround.submit",
        FixKind::Solution => "problem.solution.submit",
    };
    save(store, actor, before, after, action, vec![e], None).await
}

pub async fn review(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    kind: FixKind,
    input: ReviewInput,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let input = input.validate()?;
    let check = security_check(store, before, now).await?;
    let mut after = before.clone();
    let r = after
        .review(kind, input, check, actor.user_id(), now)
        .map_err(problem_error)?;
    let mut users: Vec<UserId> = [after.fix(kind).submitted_by, after.assignee]
        .into_iter()
        .flatten()
        .collect();
    users.dedup();
    let e = event(
        EventKind::ApprovalDecided,
        &after,
        format!(
            "The security manager {} the {} of {}.",
            r.decision.as_str(),
            kind.as_str(),
            after.reference
        ),
        users,
        vec![],
    );
    let action = match kind {
        FixKind::Workaround => "problem.workaround.review",
        FixKind::Solution => "problem.solution.review",
    };
    save(store, actor, before, after, action, vec![e], Some(r)).await
}

pub async fn publish(
    store: &dyn Store,
    actor: &Actor,
    before: &Problem,
    kind: FixKind,
    now: Timestamp,
) -> custos_core::Outcome<Problem> {
    let needs = needs_review(store, before).await?;
    let mut after = before.clone();
    after
        .publish(kind, needs, actor.user_id(), now)
        .map_err(problem_error)?;
    let action = match kind {
        FixKind::Workaround => "problem.workaround.publish",
        FixKind::Solution => "problem.solution.publish",
    };
    save(store, actor, before, after, action, vec![], None).await
}

/// Links or unlinks an incident the caller may see (one they may not see is not found,
/// exactly as if it did not exist).
pub async fn link(
    store: &dyn Store,
    principal: &Principal,
    actor: &Actor,
    problem: &Problem,
    incident: IncidentId,
    link: bool,
) -> custos_core::Outcome<bool> {
    store.incident(&viewer(principal), incident).await?;
    Ok(store
        .link_problem_incident(actor, problem.id, incident, link)
        .await?)
}

/// Applies the published workaround to an incident the caller may see: a work note that
/// names the known error and carries the workaround.
pub async fn apply(
    store: &dyn Store,
    principal: &Principal,
    actor: &Actor,
    problem: &Problem,
    incident: IncidentId,
) -> custos_core::Outcome<Note> {
    problem.check_applicable().map_err(problem_error)?;
    let inc = store.incident(&viewer(principal), incident).await?;
    let note = NoteInput {
        kind: custos_core::incident::NoteKind::WorkNote,
        body: format!(
            "Workaround of known error {} ({}) applied:\n\n{}",
            problem.reference, problem.title, problem.workaround.text
        ),
        audience: None,
        recipient: String::new(),
    }
    .validate()?;
    Ok(store
        .add_note(actor, inc.id, note, CommStatus::Recorded, vec![])
        .await?)
}
