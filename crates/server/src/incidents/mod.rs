//! Incident management between the routes and the store: what an incident's service and
//! CIs say about it (SLAs in force, calendar and targets, classification, failed controls),
//! the evaluation every create and change goes through (priority, security recognition,
//! SLA clock, notifications), and the group-commit writer that creates incidents.
//!
//! Architecture invariant: every incident write goes through [`evaluate`], so no incident
//! is stored with a stale priority, recognition or clock; every read goes through the
//! store's need-to-know predicate with a [`Viewer`] built by [`viewer`].

pub mod api;
pub mod comms;
pub mod pages;
pub mod records;
pub mod work;

use crate::service_levels::all_slas;
use custos_core::account::Role;
use custos_core::authz::{Actor, Permission, Principal};
use custos_core::calendar::ServiceHours;
use custos_core::classification::Level;
use custos_core::incident::{PriorityMatrix, Status};
use custos_core::notify::{Event, EventKind};
use custos_core::procedure::Phase;
use custos_core::recognition::{AffectedCi, Facts, SlaCriteriaRef, recognise};
use custos_core::service::Targets;
use custos_core::sla::{Sla, SlaStatus};
use custos_core::sla_clock::{ClockInput, compute, next_change};
use custos_core::store::{IncidentWrite, SlaFilter, Store};
use custos_core::ticket::{Incident, Viewer, role_mask};
use custos_core::time::Date;
use custos_core::{CiId, DomainError, SlaId, Timestamp, UserId};
use std::collections::HashSet;

pub mod cache;
pub mod writer;

/// The need-to-know viewer for a caller: reporters without `read_incidents` (requesters)
/// see only what they reported.
pub fn viewer(p: &Principal) -> Viewer {
    Viewer::new(p.user_id, &p.roles, !p.has(Permission::ReadIncidents))
}

/// Whether a stored user (not the caller: a lead, a recipient) may see incident `id` now.
pub async fn user_sees(
    store: &dyn Store,
    user: &custos_core::account::User,
    id: custos_core::IncidentId,
) -> Result<bool, custos_core::StoreError> {
    let reads = user
        .roles
        .iter()
        .any(|r| custos_core::authz::role_grants(r, Permission::ReadIncidents));
    let v = Viewer::new(user.id, &user.roles, !reads);
    Ok(!store.visible_incidents(&v, &[id]).await?.is_empty())
}

/// What the affected service and CIs say about an incident.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Agreed SLAs of the service in force today.
    pub slas: Vec<Sla>,
    /// The calendar and targets the clock counts in, and the SLA they come from.
    pub clock: Option<(Option<SlaId>, ServiceHours, Targets)>,
    pub affected: Vec<AffectedCi>,
    pub authorised_users: Vec<UserId>,
    pub authorised_roles: i64,
}

/// The agreed SLAs in force on `service` on `today`.
pub async fn slas_in_force(
    store: &dyn Store,
    service: CiId,
    today: &Date,
) -> custos_core::Outcome<Vec<Sla>> {
    Ok(all_slas(
        store,
        &SlaFilter {
            customers: None,
            service: Some(service),
            status: Some(SlaStatus::Agreed),
        },
    )
    .await?
    .into_iter()
    .filter(|s| s.status_on(today) == SlaStatus::Agreed && &s.terms.valid_from <= today)
    .collect())
}

/// Whom `slas` grant need-to-know on the service's security incidents: their authorised
/// users (sorted, once each) and the mask of their authorised roles.
pub fn sla_access(slas: &[Sla]) -> (Vec<UserId>, i64) {
    let mut users: Vec<UserId> = slas
        .iter()
        .flat_map(|s| s.terms.security.authorised_users.iter().copied())
        .collect();
    users.sort();
    users.dedup();
    let roles = role_mask(
        slas.iter()
            .flat_map(|s| s.terms.security.authorised_roles.iter().copied()),
    );
    (users, roles)
}

/// After the SLAs in force on `service` changed (a version agreed): every incident on
/// the service, open or closed, grants need-to-know to the new authorised people and roles
/// only. Someone taken off the list loses sight of incidents they could see before.
pub async fn refresh_sla_access(
    store: &dyn Store,
    actor: &Actor,
    service: CiId,
    today: &Date,
) -> custos_core::Outcome<u64> {
    let (users, roles) = sla_access(&slas_in_force(store, service, today).await?);
    Ok(store
        .refresh_sla_access(actor, service, &users, roles)
        .await?)
}

/// Loads the [`Context`] of a service and CIs. Unknown CIs are a validation error.
pub async fn context(
    store: &dyn Store,
    service: Option<CiId>,
    cis: &[CiId],
    today: &Date,
) -> custos_core::Outcome<Context> {
    let mut ids: Vec<CiId> = cis.to_vec();
    if let Some(s) = service {
        ids.push(s);
    }
    ids.sort();
    ids.dedup();
    let records = if ids.is_empty() {
        Vec::new()
    } else {
        store.cis_by_ids(&ids).await?
    };
    if records.len() != ids.len() {
        let found: HashSet<CiId> = records.iter().map(|r| r.ci.id).collect();
        let missing = ids.iter().find(|i| !found.contains(i)).copied();
        let field = if missing == service { "service" } else { "cis" };
        return Err(DomainError::new(
            field,
            format!(
                "no CI {}",
                missing.map(|m| m.to_string()).unwrap_or_default()
            ),
        )
        .into());
    }
    let failed = failed_required(store, &records).await?;
    let affected = records
        .iter()
        .map(|r| AffectedCi {
            id: r.ci.id,
            name: r.ci.name.clone(),
            effective: [
                r.effective[0].level,
                r.effective[1].level,
                r.effective[2].level,
            ],
            failed_controls: failed
                .iter()
                .filter(|(c, _, _)| *c == r.ci.id)
                .map(|(_, k, l)| (*k, l.clone()))
                .collect(),
        })
        .collect();
    let mut ctx = Context {
        affected,
        ..Default::default()
    };
    let Some(service) = service else {
        return Ok(ctx);
    };
    ctx.slas = slas_in_force(store, service, today).await?;
    (ctx.authorised_users, ctx.authorised_roles) = sla_access(&ctx.slas);
    ctx.clock = match store.service(service).await {
        Ok(entry) => {
            // Several customers' SLAs on one service: the strictest resolution target wins.
            let sla = ctx.slas.iter().min_by_key(|s| {
                s.terms
                    .targets
                    .priorities
                    .iter()
                    .map(|p| p.resolution_minutes)
                    .sum::<u32>()
            });
            Some(match sla {
                Some(s) => (Some(s.id), entry.hours, s.terms.targets.clone()),
                None => (None, entry.hours, entry.targets),
            })
        }
        Err(custos_core::StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(ctx)
}

/// Failed implementations of controls the CIs are required to implement.
async fn failed_required(
    store: &dyn Store,
    records: &[custos_core::store::CiRecord],
) -> custos_core::Outcome<Vec<(CiId, custos_core::ControlId, String)>> {
    let ids: Vec<CiId> = records.iter().map(|r| r.ci.id).collect();
    let failed = store.failed_implementations(&ids).await?;
    if failed.is_empty() {
        return Ok(failed);
    }
    let map = crate::measures::level_baselines(store).await?;
    let mut out = Vec::new();
    for r in records {
        let mine: Vec<_> = failed.iter().filter(|f| f.0 == r.ci.id).collect();
        if mine.is_empty() {
            continue;
        }
        let level = custos_core::classification::high_water_mark(&r.effective);
        let baseline = map[(level.as_i16() - 1) as usize].0;
        let data = store.gap_data(r.ci.id, baseline).await?;
        for f in mine {
            let required =
                data.baseline.contains(&f.1) || data.added.iter().any(|(c, _)| *c == f.1);
            if required {
                out.push(f.clone());
            }
        }
    }
    Ok(out)
}

/// Everything evaluation decides besides the incident's own fields.
#[derive(Debug, Default)]
pub struct Evaluated {
    pub clock_check_at: Option<Timestamp>,
    pub events: Vec<Event>,
    /// Newly flagged by the rules in this evaluation.
    pub flagged_now: bool,
}

/// Recomputes priority, security recognition (flagging, never unflagging) and the clock.
pub fn evaluate(
    inc: &mut Incident,
    ctx: &Context,
    holds: &[(Timestamp, Option<Timestamp>)],
    matrix: &PriorityMatrix,
    now: Timestamp,
) -> Evaluated {
    let mut out = Evaluated::default();
    inc.priority = matrix.priority(inc.impact, inc.urgency);
    let refs: Vec<SlaCriteriaRef<'_>> = ctx
        .slas
        .iter()
        .map(|s| SlaCriteriaRef {
            sla_id: s.id,
            sla_name: &s.terms.name,
            criteria: &s.terms.security.incident_criteria,
        })
        .collect();
    let reasons = recognise(&Facts {
        category: &inc.category,
        title: &inc.title,
        description: &inc.description,
        affected: &ctx.affected,
        slas: &refs,
    });
    if !inc.security.flagged && !reasons.is_empty() {
        // After a security manager's unflag, only a reason that was not there then flags
        // it again.
        let fresh = inc.security.unflagged.is_none()
            || reasons.iter().any(|r| !inc.security.reasons.contains(r));
        if fresh {
            inc.security.flagged = true;
            inc.security.phase = Some(Phase::Detection);
            out.flagged_now = true;
        }
    }
    inc.security.reasons = reasons;
    match &ctx.clock {
        Some((sla, hours, targets)) => {
            inc.sla = *sla;
            let clock = compute(
                &ClockInput {
                    hours,
                    target: inc.priority.target(targets),
                    opened_at: inc.created_at,
                    holds,
                    responded_at: inc.responded_at,
                    resolved_at: inc.resolved_at,
                },
                now,
            );
            out.clock_check_at = next_change(&clock, now);
            inc.clock = Some(clock);
        }
        None => {
            inc.sla = None;
            inc.clock = None;
        }
    }
    out.clock_check_at = next_check(inc, out.clock_check_at, now);
    if out.flagged_now {
        out.events.push(security_event(inc));
    }
    out
}

/// The event telling the security team (and the assignee) about a security incident.
pub fn security_event(inc: &Incident) -> Event {
    Event {
        kind: EventKind::SecurityFlagged,
        entity_type: "incident".into(),
        entity_id: inc.id.to_string(),
        reference: inc.reference.clone(),
        subject: format!("{} is a security incident", inc.reference),
        body: format!(
            "{} \"{}\" is handled as a security incident.\n{}",
            inc.reference,
            inc.title,
            inc.security
                .reasons
                .iter()
                .map(custos_core::recognition::describe)
                .collect::<Vec<_>>()
                .join("\n")
        ),
        users: inc.assignee.into_iter().collect(),
        roles: vec![Role::SecurityManager],
        confidential: true,
    }
}

/// The event telling a new assignee (and the group's lead) about an assignment.
pub fn assignment_event(inc: &Incident, lead: Option<UserId>) -> Event {
    let mut users: Vec<UserId> = inc.assignee.into_iter().chain(lead).collect();
    users.sort();
    users.dedup();
    Event {
        kind: EventKind::Assigned,
        entity_type: "incident".into(),
        entity_id: inc.id.to_string(),
        reference: inc.reference.clone(),
        subject: format!("{} assigned: {}", inc.reference, inc.priority.label()),
        body: format!(
            "{} \"{}\" ({}) is assigned to you or your group.",
            inc.reference,
            inc.title,
            inc.priority.label()
        ),
        users,
        roles: Vec::new(),
        confidential: inc.security.flagged,
    }
}

/// Applies a status change: transition rules, first response, resolution, closing, holds.
pub fn change_status(
    inc: &mut Incident,
    holds: &mut Vec<(Timestamp, Option<Timestamp>)>,
    to: Status,
    now: Timestamp,
) -> custos_core::Outcome<()> {
    if inc.status == to {
        return Ok(());
    }
    inc.status.transition(to)?;
    if to == Status::Resolved && inc.resolution.trim().is_empty() {
        return Err(DomainError::new("resolution", "resolving needs resolution notes").into());
    }
    if to == Status::Closed {
        if inc.security.flagged && inc.security.phase != Some(Phase::Closed) {
            return Err(DomainError::new(
                "status",
                "a security incident closes only after its procedure is closed (post-incident review done)",
            )
            .into());
        }
        if inc.major.as_ref().is_some_and(|m| !m.reviewed) {
            return Err(DomainError::new(
                "status",
                "a major incident closes only after its review is recorded",
            )
            .into());
        }
    }
    if inc.status == Status::OnHold {
        for h in holds.iter_mut().filter(|h| h.1.is_none()) {
            h.1 = Some(now);
        }
    }
    if to == Status::OnHold {
        holds.push((now, None));
    }
    if inc.responded_at.is_none() && to != Status::New {
        inc.responded_at = Some(now);
    }
    match to {
        Status::Resolved => inc.resolved_at = Some(now),
        Status::Closed => inc.closed_at = Some(now),
        Status::InProgress | Status::New | Status::OnHold => {
            inc.resolved_at = None;
            inc.closed_at = None;
        }
    }
    inc.status = to;
    Ok(())
}

/// Builds the write of an evaluated incident.
pub fn write(
    inc: Incident,
    before: Option<&Incident>,
    holds: Vec<(Timestamp, Option<Timestamp>)>,
    ctx: &Context,
    ev: Evaluated,
    actor: custos_core::authz::Actor,
    action: &'static str,
) -> IncidentWrite {
    let changes = custos_core::audit::diff(
        before.map(|b| b.audit_view()).as_ref(),
        Some(&inc.audit_view()),
    );
    IncidentWrite {
        incident: inc,
        holds,
        actor,
        audit_action: action,
        changes,
        authorised_users: ctx.authorised_users.clone(),
        authorised_roles: ctx.authorised_roles,
        clock_check_at: ev.clock_check_at,
        events: ev.events,
    }
}

/// Whether an effective level is at least moderate in any dimension (used by pages).
pub fn classified(levels: &[Level; 3]) -> bool {
    levels.iter().any(|l| *l >= Level::Moderate)
}

/// The incidents an audit entry is about: its entity, and the other incident of a link
/// (`incident.link`, `incident.unlink`: `other`) or the incident a problem was linked to
/// or unlinked from (`incident`).
fn incidents_in(e: &custos_core::audit::AuditEntry) -> Vec<custos_core::IncidentId> {
    let mut ids: Vec<custos_core::IncidentId> = Vec::new();
    if e.entity_type == "incident" {
        ids.extend(e.entity_id.parse::<custos_core::IncidentId>().ok());
    }
    let key = match (e.entity_type.as_str(), e.action.as_str()) {
        ("incident", "incident.link" | "incident.unlink") => Some("other"),
        ("problem", a) if a.starts_with("problem.incident") => Some("incident"),
        _ => None,
    };
    if let Some(key) = key
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.changes)
    {
        ids.extend(
            v[key]
                .as_str()
                .and_then(|s| s.parse::<custos_core::IncidentId>().ok()),
        );
    }
    ids
}

/// Drops the audit entries that name an incident the caller may not see: its own entries,
/// and links to it from other incidents and problems (need-to-know applies to the audit
/// log too: an auditor or admin gets no trace of a security incident).
pub async fn hide_unseen(
    store: &dyn Store,
    principal: &Principal,
    entries: Vec<custos_core::audit::AuditEntry>,
) -> custos_core::Outcome<Vec<custos_core::audit::AuditEntry>> {
    let mut ids: Vec<custos_core::IncidentId> = entries.iter().flat_map(incidents_in).collect();
    if ids.is_empty() {
        return Ok(entries);
    }
    ids.sort();
    ids.dedup();
    let seen: HashSet<custos_core::IncidentId> = store
        .visible_incidents(&viewer(principal), &ids)
        .await?
        .into_iter()
        .collect();
    Ok(entries
        .into_iter()
        .filter(|e| incidents_in(e).iter().all(|id| seen.contains(id)))
        .collect())
}

/// The SLA clock job: recomputes the clocks due to change (75 % warning, 100 % breach),
/// stores them, and notifies — the assignee and the group's lead, and for a security
/// incident the security managers too. Returns how many incidents it looked at.
/// When the clock job must look at an incident next: the SLA clock's next change, or the
/// next reminder of an open major incident's overdue update, whichever comes first.
fn next_check(inc: &Incident, clock: Option<Timestamp>, now: Timestamp) -> Option<Timestamp> {
    let reminder = inc
        .major
        .as_ref()
        .filter(|_| inc.status.is_open())
        .map(|m| m.next_reminder(now));
    clock.into_iter().chain(reminder).min()
}

/// The reminder that an open major incident's update is overdue, to its lead (and the
/// security team for a security incident), if one is due now.
fn update_reminder(inc: &Incident, now: Timestamp) -> Option<(Timestamp, Event)> {
    let m = inc.major.as_ref().filter(|_| inc.status.is_open())?;
    let slot = m.reminder_due(now)?;
    let late = (now.0 - m.next_update_due.0) / 60_000;
    Some((
        slot,
        major_event(
            inc,
            m.lead,
            format!("{}: major incident update overdue", inc.reference),
            format!(
                "The update of major incident {} was due {late} minutes ago (every {} minutes). Record an update on the incident.",
                inc.reference, m.cadence_minutes
            ),
        ),
    ))
}

/// An event about a major incident, to its lead — and the security team when it is a
/// security incident (then confidential).
pub fn major_event(inc: &Incident, lead: UserId, subject: String, body: String) -> Event {
    Event {
        kind: EventKind::MajorIncident,
        entity_type: "incident".into(),
        entity_id: inc.id.to_string(),
        reference: inc.reference.clone(),
        subject,
        body,
        users: vec![lead],
        roles: if inc.security.flagged {
            vec![Role::SecurityManager]
        } else {
            Vec::new()
        },
        confidential: inc.security.flagged,
    }
}

pub async fn tick_clocks(store: &dyn Store, now: Timestamp) -> custos_core::Outcome<u64> {
    use custos_core::sla_clock::TargetState;
    let due = store.incidents_due_for_clock(now, 500).await?;
    let n = due.len() as u64;
    for inc in due {
        let holds = store.incident_holds(inc.id).await?;
        let ctx = context(store, inc.service, &inc.cis, &Date::of(now)).await?;
        let reminder = update_reminder(&inc, now);
        let slot = reminder.as_ref().map(|(s, _)| *s);
        let Some((_, hours, targets)) = &ctx.clock else {
            store
                .save_clock(
                    inc.id,
                    None,
                    next_check(&inc, None, now),
                    inc.updated_at,
                    None,
                    reminder.into_iter().map(|(_, e)| e).collect(),
                    slot,
                )
                .await?;
            continue;
        };
        let clock = compute(
            &ClockInput {
                hours,
                target: inc.priority.target(targets),
                opened_at: inc.created_at,
                holds: &holds,
                responded_at: inc.responded_at,
                resolved_at: inc.resolved_at,
            },
            now,
        );
        let before = inc.clock;
        let mut events = Vec::new();
        let mut breached = Vec::new();
        let lead = match inc.group {
            Some(g) => store.group(g).await.ok().and_then(|g| g.lead),
            None => None,
        };
        for (name, old, new) in [
            (
                "response",
                before.map(|c| c.response.state),
                clock.response.state,
            ),
            (
                "resolution",
                before.map(|c| c.resolution.state),
                clock.resolution.state,
            ),
        ] {
            if old == Some(new) {
                continue;
            }
            let kind = match new {
                TargetState::Warning => EventKind::ClockWarning,
                TargetState::Breached => {
                    breached.push(name);
                    EventKind::Breach
                }
                _ => continue,
            };
            let mut users: Vec<UserId> = inc.assignee.into_iter().chain(lead).collect();
            users.sort();
            users.dedup();
            let what = if kind == EventKind::Breach {
                "breached"
            } else {
                "at 75 %"
            };
            events.push(Event {
                kind,
                entity_type: "incident".into(),
                entity_id: inc.id.to_string(),
                reference: inc.reference.clone(),
                subject: format!("{}: {name} target {what}", inc.reference),
                body: format!(
                    "The {name} target of {} ({}) is {what}.",
                    inc.reference,
                    inc.priority.label()
                ),
                users,
                roles: if inc.security.flagged && kind == EventKind::Breach {
                    vec![Role::SecurityManager]
                } else {
                    Vec::new()
                },
                confidential: inc.security.flagged,
            });
        }
        let audit = (!breached.is_empty()).then(|| {
            (
                "incident.breach",
                serde_json::json!({"reference": inc.reference, "clocks": breached}),
            )
        });
        events.extend(reminder.map(|(_, e)| e));
        store
            .save_clock(
                inc.id,
                Some(clock),
                next_check(&inc, next_change(&clock, now), now),
                inc.updated_at,
                audit,
                events,
                slot,
            )
            .await?;
    }
    Ok(n)
}
