//! Working an incident: security flag, procedure phases, major incidents, actions,
//! attachments and links.

use crate::http::state::AppState;
use crate::incidents::evaluate;
use crate::incidents::records::find;
use crate::incidents::security_event;
use crate::incidents::viewer;
use crate::incidents::write;
use custos_core::account::clean_text;
use custos_core::authz::{Actor, Principal};
use custos_core::notify::Event;
use custos_core::procedure::{ActionKind, Phase, Recorded, advance, check_cadence};
use custos_core::ticket::{Action, Attachment, FlagDecision, Incident, Major};
use custos_core::time::Date;
use custos_core::{CiId, DomainError, Timestamp, UserId};
use custos_core::{Error, Outcome};
use serde::Deserialize;

/// The largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Loads a visible incident, lets `change` alter it, re-evaluates and saves it.
pub async fn mutate<F>(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    action: &'static str,
    change: F,
) -> Outcome<Incident>
where
    F: FnOnce(&mut Incident, Timestamp) -> Outcome<Vec<Event>>,
{
    let before = find(state, &viewer(principal), id).await?;
    let holds = state.store.incident_holds(before.id).await?;
    let mut inc = before.clone();
    let now = Timestamp::now();
    let extra = change(&mut inc, now)?;
    inc.updated_at = now;
    let ctx = state
        .incident_context(inc.service, &inc.cis, &Date::of(now))
        .await?;
    let mut ev = evaluate(&mut inc, &ctx, &holds, &state.settings.priority_matrix, now);
    ev.events.extend(extra);
    let w = write(inc, Some(&before), holds, &ctx, ev, actor, action);
    let mut saved = state.store.save_incident(w, before.updated_at).await?;
    saved.links = before.links;
    Ok(saved)
}

fn reason(r: &str) -> Outcome<String> {
    let r = clean_text(r, 2000);
    if r.is_empty() {
        return Err(Error::validation("reason", "a reason is required"));
    }
    Ok(r)
}

/// Flags a visible incident as a security incident by hand, recording who and why (API
/// and pages; the caller has checked `manage_incidents`).
pub async fn flag_incident(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    why: &str,
) -> Outcome<Incident> {
    let r = reason(why)?;
    let by = principal.user_id;
    mutate(state, principal, actor, id, "incident.flag", |inc, now| {
        if inc.security.flagged {
            return Err(Error::Conflict("already a security incident".into()));
        }
        inc.security.flagged = true;
        inc.security.phase = Some(Phase::Detection);
        inc.security.manual_flag = Some(FlagDecision {
            by: Some(by),
            at: now,
            reason: r,
        });
        inc.security.unflagged = None;
        Ok(vec![security_event(inc)])
    })
    .await
}

/// Unflags a security incident, recording who and why (the caller has checked
/// `handle_security_incidents`).
pub async fn unflag_incident(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    why: &str,
) -> Outcome<Incident> {
    let r = reason(why)?;
    let by = principal.user_id;
    mutate(
        state,
        principal,
        actor,
        id,
        "incident.unflag",
        |inc, now| {
            if !inc.security.flagged {
                return Err(Error::Conflict("not a security incident".into()));
            }
            inc.security.flagged = false;
            inc.security.phase = None;
            inc.security.unflagged = Some(FlagDecision {
                by: Some(by),
                at: now,
                reason: r,
            });
            Ok(Vec::new())
        },
    )
    .await
}

/// What has been recorded on an incident, as the procedure's gates count it.
pub async fn recorded(state: &AppState, inc: &Incident) -> Outcome<Recorded> {
    let actions = state.store.actions(inc.id).await?;
    let evidence = state
        .store
        .attachments(inc.id)
        .await?
        .iter()
        .filter(|a| a.evidence)
        .count();
    let mut affected = inc.cis.clone();
    affected.extend(inc.service);
    affected.sort();
    affected.dedup();
    Ok(Recorded {
        has_handler: inc.assignee.is_some(),
        evidence_items: evidence,
        actions: actions.iter().map(|a| (a.kind, a.ci)).collect(),
        affected,
    })
}

/// Moves a security incident to `to`, the next phase, if the current one is complete.
pub async fn advance_phase(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    to: Phase,
) -> Outcome<Incident> {
    let current = find(state, &viewer(principal), id).await?;
    let rec = recorded(state, &current).await?;
    mutate(state, principal, actor, id, "incident.phase", |inc, _| {
        let Some(from) = inc.security.phase.filter(|_| inc.security.flagged) else {
            return Err(Error::Conflict("not a security incident".into()));
        };
        advance(from, to, &rec)?;
        inc.security.phase = Some(to);
        Ok(Vec::new())
    })
    .await
}

/// Declares a major incident with its lead and update cadence (minutes, 15–1440).
pub async fn declare(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    lead: UserId,
    cadence_minutes: u32,
) -> Outcome<Incident> {
    let cadence = check_cadence(cadence_minutes)?;
    crate::incidents::records::works_on_incidents(state, lead, "lead").await?;
    let lead = state.store.user(lead).await?;
    // The lead of a security incident needs sight of it (need-to-know).
    let inc = find(state, &viewer(principal), id).await?;
    let lead_sees = crate::incidents::user_sees(state.store.as_ref(), &lead, inc.id).await?;
    let by = principal.user_id;
    mutate(state, principal, actor, id, "incident.major", |inc, now| {
        if inc.major.is_some() {
            return Err(Error::Conflict("already a major incident".into()));
        }
        if !lead_sees {
            return Err(Error::validation(
                "lead",
                "has no need-to-know of this security incident: choose someone of the security team or add them first",
            ));
        }
        inc.major = Some(Major {
            lead: lead.id,
            cadence_minutes: cadence,
            declared_at: now,
            declared_by: Some(by),
            next_update_due: now.plus_secs(i64::from(cadence) * 60),
            reviewed: false,
            reminded_for: None,
        });
        Ok(vec![crate::incidents::major_event(
            inc,
            lead.id,
            format!("{} is a major incident; you lead it", inc.reference),
            format!(
                "{} \"{}\" was declared a major incident. Updates are due every {cadence} minutes.",
                inc.reference, inc.title
            ),
        )])
    })
    .await
}

/// Records a procedure step: security steps on security incidents, updates and the review
/// on major incidents (an update resets the cadence; the review allows closing).
pub async fn record_action(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    kind: ActionKind,
    body: &str,
    ci: Option<CiId>,
) -> Outcome<Action> {
    let inc = find(state, &viewer(principal), id).await?;
    let body = clean_text(body, 5000);
    if body.is_empty() {
        return Err(Error::validation("body", "must not be empty"));
    }
    if kind.is_security() && !inc.security.flagged {
        return Err(Error::Conflict(
            "security procedure steps are for security incidents".into(),
        ));
    }
    if !kind.is_security() && inc.major.is_none() {
        return Err(Error::Conflict(
            "major incident steps are for major incidents".into(),
        ));
    }
    match (kind.needs_ci(), ci) {
        (true, None) => return Err(Error::validation("ci", "name the affected CI")),
        (true, Some(c)) if !(inc.cis.contains(&c) || inc.service == Some(c)) => {
            return Err(Error::validation(
                "ci",
                "not an affected CI of this incident",
            ));
        }
        (false, Some(_)) => {
            return Err(Error::validation(
                "ci",
                "only isolation and recovery name a CI",
            ));
        }
        _ => {}
    }
    let action = state
        .store
        .add_action(&actor, inc.id, kind, &body, ci)
        .await?;
    if matches!(kind, ActionKind::MajorUpdate | ActionKind::MajorReview) {
        mutate(state, principal, actor, id, "incident.major", |inc, now| {
            if let Some(m) = inc.major.as_mut() {
                if kind == ActionKind::MajorUpdate {
                    m.next_update_due = now.plus_secs(i64::from(m.cadence_minutes) * 60);
                    m.reminded_for = None;
                } else {
                    m.reviewed = true;
                }
            }
            Ok(Vec::new())
        })
        .await?;
    }
    Ok(action)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttachmentParams {
    pub file_name: String,
    /// An evidence item of the security procedure (its hash is chained to the audit log).
    #[serde(default)]
    pub evidence: bool,
    #[serde(default)]
    pub description: String,
}

/// Stores an attachment or evidence item (the raw body, at most 10 MiB) with its SHA-256.
pub async fn attach(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    p: &AttachmentParams,
    content_type: &str,
    body: &[u8],
) -> Outcome<Attachment> {
    let inc = find(state, &viewer(principal), id).await?;
    let name = custos_core::measures::clean_file_name(&p.file_name)?;
    if body.is_empty() {
        return Err(Error::validation("body", "the file is empty"));
    }
    let description = clean_text(&p.description, 2000);
    if p.evidence && !inc.security.flagged {
        return Err(Error::Conflict(
            "evidence items belong to security incidents".into(),
        ));
    }
    if p.evidence && description.is_empty() {
        return Err(Error::validation(
            "description",
            "describe the evidence item (what, where from, how collected)",
        ));
    }
    let ct: String = content_type
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    Ok(state
        .store
        .add_attachment(&actor, inc.id, &name, &ct, body, p.evidence, &description)
        .await?)
}

/// Links (or unlinks) two incidents, both visible to the caller.
pub async fn set_link(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    other: &str,
    link: bool,
) -> Outcome<()> {
    let v = viewer(principal);
    let a = find(state, &v, id).await?;
    let b = find(state, &v, other).await?;
    if a.id == b.id {
        return Err(DomainError::new("other", "an incident cannot be linked to itself").into());
    }
    Ok(state.store.link_incidents(&actor, a.id, b.id, link).await?)
}
