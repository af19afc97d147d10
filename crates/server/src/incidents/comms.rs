//! Communicating on an incident: notes and their approval, the timeline, saved filters.

use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::incidents::records::find;
use crate::incidents::viewer;
use custos_core::account::{Role, check_name, clean_text};
use custos_core::authz::{Actor, Permission, Principal};
use custos_core::incident::NoteKind;
use custos_core::notify::{Event, EventKind};
use custos_core::store::AuditFilter;
use custos_core::ticket::{CommStatus, Note, NoteInput, TimelineEntry};
use custos_core::{Error, Outcome};
use custos_core::{NoteId, UserId};
use uuid::Uuid;

/// Adds to the log. Agents write any kind; a reporter only public comments on its own
/// report. An external communication on a security incident is a draft until a security
/// manager approves it; on any other incident it is recorded as sent.
pub async fn note(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    input: NoteInput,
) -> Outcome<Note> {
    let input = input.validate()?;
    let inc = find(state, &viewer(principal), id).await?;
    if input.kind != NoteKind::PublicComment && !principal.has(Permission::ManageIncidents) {
        return Err(Error::Forbidden(custos_core::authz::Forbidden(
            Permission::ManageIncidents,
        )));
    }
    let mut events = Vec::new();
    let status = match input.kind {
        NoteKind::External if inc.security.flagged => {
            events.push(Event {
                kind: EventKind::ApprovalRequested,
                entity_type: "incident".into(),
                entity_id: inc.id.to_string(),
                reference: inc.reference.clone(),
                subject: format!(
                    "{}: an external communication awaits your approval",
                    inc.reference
                ),
                body: format!(
                    "A communication to {} about security incident {} waits for a security manager's approval.",
                    input.audience.map(|a| a.as_str()).unwrap_or("?"),
                    inc.reference
                ),
                users: Vec::new(),
                roles: vec![Role::SecurityManager],
                confidential: true,
            });
            CommStatus::Draft
        }
        NoteKind::External => CommStatus::Sent,
        _ => CommStatus::Recorded,
    };
    let n = state
        .store
        .add_note(&actor, inc.id, input, status, events)
        .await?;
    // An agent's public comment is a response to the reporter: the response clock stops.
    if n.kind == NoteKind::PublicComment
        && inc.responded_at.is_none()
        && principal.has(Permission::ManageIncidents)
    {
        let r = crate::incidents::work::mutate(
            state,
            principal,
            Actor::System("first-response"),
            id,
            "incident.respond",
            |inc, now| {
                inc.responded_at = Some(now);
                Ok(Vec::new())
            },
        )
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording the first response failed");
        }
    }
    Ok(n)
}

/// Approves or rejects a draft external communication (security managers only).
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    actor: Actor,
    id: &str,
    note: &str,
    approve: bool,
    reason: &str,
) -> Outcome<Note> {
    let inc = find(state, &viewer(principal), id).await?;
    let reason = clean_text(reason, 2000);
    if !approve && reason.is_empty() {
        return Err(Error::validation("reason", "say why it is rejected"));
    }
    let author = state
        .store
        .notes(inc.id, false)
        .await?
        .into_iter()
        .find(|n| n.id.0.to_string() == note)
        .and_then(|n| n.author);
    let event = Event {
        kind: EventKind::ApprovalDecided,
        entity_type: "incident".into(),
        entity_id: inc.id.to_string(),
        reference: inc.reference.clone(),
        subject: format!(
            "{}: external communication {}",
            inc.reference,
            if approve {
                "approved and sent"
            } else {
                "rejected"
            }
        ),
        body: if approve {
            "A security manager approved the communication; it is recorded as sent.".into()
        } else {
            format!("A security manager rejected the communication: {reason}")
        },
        users: author.into_iter().collect(),
        roles: Vec::new(),
        confidential: inc.security.flagged,
    };
    Ok(state
        .store
        .decide_note(
            &actor,
            inc.id,
            NoteId(parse_id(note)?),
            approve,
            &reason,
            vec![event],
        )
        .await?)
}

/// Everything that happened to an incident, oldest first: audit entries, the log, steps
/// and files.
pub async fn timeline_of(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Outcome<Vec<TimelineEntry>> {
    let inc = find(state, &viewer(principal), id).await?;
    let mut out = Vec::new();
    let audit = crate::service_levels::every(|after| {
        let f = AuditFilter {
            entity_type: Some("incident".into()),
            entity_id: Some(inc.id.to_string()),
            ..Default::default()
        };
        let store = state.store.clone();
        async move { store.list_audit(&f, after).await }
    })
    .await?;
    // Entries linking it to incidents the caller may not see are left out.
    for a in crate::incidents::hide_unseen(state.store.as_ref(), principal, audit).await? {
        out.push(TimelineEntry {
            at: a.at,
            source: "audit".into(),
            actor: a.actor,
            what: a.action,
            detail: a.changes,
        });
    }
    for n in state.store.notes(inc.id, false).await? {
        out.push(TimelineEntry {
            at: n.created_at,
            source: "note".into(),
            actor: n.author.map(|u| u.to_string()).unwrap_or_default(),
            what: format!("{} ({})", n.kind.as_str(), n.status.as_str()),
            detail: n.body,
        });
    }
    for a in state.store.actions(inc.id).await? {
        out.push(TimelineEntry {
            at: a.at,
            source: "action".into(),
            actor: a.by.map(|u| u.to_string()).unwrap_or_default(),
            what: a.kind.as_str().into(),
            detail: a.body,
        });
    }
    for f in state.store.attachments(inc.id).await? {
        out.push(TimelineEntry {
            at: f.uploaded_at,
            source: "attachment".into(),
            actor: f.uploaded_by.map(|u| u.to_string()).unwrap_or_default(),
            what: if f.evidence { "evidence" } else { "attachment" }.into(),
            detail: format!("{} sha256:{}", f.file_name, f.sha256),
        });
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

/// Checks a saved filter: a name, and a query string the incident list accepts.
pub fn check_filter(name: &str, query: &str) -> Outcome<(String, String)> {
    let name = check_name("name", name, 100)?;
    let query = query.trim().trim_start_matches('?').to_string();
    let q: crate::incidents::records::IncidentQuery = serde_urlencoded::from_str(&query)
        .map_err(|e| Error::validation("query", format!("not an incident filter: {e}")))?;
    q.filter(UserId(Uuid::nil()))?;
    if query.len() > 2000 {
        return Err(Error::validation("query", "is too long"));
    }
    Ok((name, query))
}

/// A user id that exists (for forms naming people).
pub async fn existing_user(state: &AppState, id: Uuid) -> Outcome<UserId> {
    match state.store.user(UserId(id)).await {
        Ok(u) => Ok(u.id),
        Err(custos_core::StoreError::NotFound { .. }) => {
            Err(Error::validation("user", "no such user"))
        }
        Err(e) => Err(e.into()),
    }
}
