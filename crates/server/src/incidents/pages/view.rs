//! The parts of an incident's page, built from the incident and what hangs off it: the
//! edit form's inputs, the procedure stepper and what the current phase still needs, steps,
//! links, the communications log, files and the need-to-know list.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::WebError;
use crate::http::state::AppState;
use crate::http::util::human;
use crate::incidents::pages::common;
use crate::incidents::pages::common::Radio;
use crate::incidents::pages::common::group_opts;
use crate::incidents::pages::common::handler_opts;
use crate::incidents::pages::common::name_of;
use crate::incidents::pages::common::status_label;
use crate::service_levels::pages::common::opts;
use custos_core::account::User;
use custos_core::incident::NoteKind;
use custos_core::procedure::{Phase, Recorded, missing};
use custos_core::ticket::{CommStatus, FlagDecision, Group, Incident, Viewer};
use custos_core::{CiId, UserId};
use std::collections::HashMap;

pub struct Decision {
    pub by: String,
    pub at: String,
    pub reason: String,
}

pub struct Step {
    pub label: &'static str,
    /// done, current or todo (also the CSS class suffix).
    pub state: &'static str,
}

pub struct ActionRow {
    pub label: &'static str,
    pub body: String,
    pub ci: String,
    pub by: String,
    pub at: String,
}

pub struct MajorView {
    pub lead: String,
    pub cadence: u32,
    pub declared: String,
    pub next_due: String,
    pub overdue: bool,
    pub reviewed: bool,
}

pub struct LinkRow {
    pub reference: String,
    pub title: String,
    pub status: &'static str,
}

/// A problem linked to the incident, or a known error of its service.
pub struct ProblemRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub status: &'static str,
    /// The published workaround (known errors), to apply to the incident.
    pub workaround: Option<String>,
}

/// The problems linked to the incident, and the known errors of its service that are not
/// linked (candidates to apply). Empty for callers who do not read problems.
pub async fn problem_rows(
    state: &AppState,
    inc: &Incident,
) -> Result<(Vec<ProblemRow>, Vec<ProblemRow>), WebError> {
    use custos_core::problem::{FixState, Problem, ProblemFilter};
    let row = |p: Problem| ProblemRow {
        id: p.id.to_string(),
        reference: p.reference,
        title: p.title,
        status: p.status.label(),
        workaround: (p.workaround.state == FixState::Published).then_some(p.workaround.text),
    };
    let first = custos_core::page::PageRequest::first(20);
    let linked = state
        .store
        .list_problems(
            &ProblemFilter {
                incident: Some(inc.id),
                ..Default::default()
            },
            first,
        )
        .await?
        .items;
    let known = match inc.service {
        Some(s) => {
            state
                .store
                .list_problems(
                    &ProblemFilter {
                        known_error: Some(true),
                        service: Some(s),
                        ..Default::default()
                    },
                    first,
                )
                .await?
                .items
        }
        None => vec![],
    };
    let known = known
        .into_iter()
        .filter(|k| !linked.iter().any(|l| l.id == k.id))
        .map(row)
        .collect();
    Ok((linked.into_iter().map(row).collect(), known))
}

pub struct NoteRow {
    pub id: String,
    pub kind: &'static str,
    pub body: String,
    pub audience: String,
    pub recipient: String,
    /// recorded, draft, sent or rejected.
    pub status: &'static str,
    pub author: String,
    pub at: String,
    pub decided: String,
    pub decision_reason: String,
    pub draft: bool,
}

pub struct FileRow {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub evidence: bool,
    pub description: String,
    pub by: String,
    pub at: String,
}

pub struct AccessRow {
    pub user: String,
    pub name: String,
    /// added (removable) or sla.
    pub source: String,
}

/// The edit form's inputs: the incident's values, or those of a refused submission.
pub struct Edit {
    pub title: String,
    pub description: String,
    pub category: String,
    pub impacts: Vec<Radio>,
    pub urgencies: Vec<Radio>,
    pub services: Vec<Opt>,
    pub cis: Vec<Opt>,
    pub cis_more: String,
    pub groups: Vec<Opt>,
    pub assignees: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub resolution: String,
}

pub fn decision(d: &Option<FlagDecision>, names: &HashMap<UserId, String>) -> Option<Decision> {
    d.as_ref().map(|d| Decision {
        by: name_of(names, d.by),
        at: human(d.at),
        reason: d.reason.clone(),
    })
}

/// The edit form's inputs: those of a refused submission (`posted`), else the incident's.
pub async fn edit_inputs(
    state: &AppState,
    inc: &Incident,
    users: &[User],
    groups: &[Group],
    posted: Option<&Form>,
) -> Result<Edit, WebError> {
    let pick = |k: &str, current: String| {
        posted
            .map(|f| f.get_or_empty(k).to_string())
            .unwrap_or(current)
    };
    let chosen_cis: Vec<String> = match posted {
        Some(f) => f.all("cis").iter().map(|s| s.to_string()).collect(),
        None => inc.cis.iter().map(|c| c.to_string()).collect(),
    };
    let status_now = inc.status;
    Ok(Edit {
        title: pick("title", inc.title.clone()),
        description: pick("description", inc.description.clone()),
        category: pick("category", inc.category.clone()),
        impacts: common::impact_radios(&pick("impact", inc.impact.as_str().into()), false),
        urgencies: common::urgency_radios(&pick("urgency", inc.urgency.as_str().into()), false),
        services: common::service_opts(
            state,
            &pick(
                "service",
                inc.service.map(|s| s.to_string()).unwrap_or_default(),
            ),
        )
        .await?,
        cis: common::ci_opts(state, &chosen_cis).await?,
        cis_more: pick("cis_more", String::new()),
        groups: group_opts(
            groups,
            &pick(
                "group",
                inc.group.map(|g| g.to_string()).unwrap_or_default(),
            ),
        ),
        assignees: handler_opts(
            users,
            &pick(
                "assignee",
                inc.assignee.map(|a| a.to_string()).unwrap_or_default(),
            ),
        ),
        statuses: opts(
            std::iter::once(status_now)
                .chain(status_now.next().iter().copied())
                .map(|s| (s.as_str().to_string(), status_label(s).to_string())),
            &pick("status", status_now.as_str().into()),
        ),
        resolution: pick("resolution", inc.resolution.clone()),
    })
}

/// The procedure's phases, each done, current or to do.
pub fn stepper(phase: Option<Phase>) -> Vec<Step> {
    let Some(cur) = phase else {
        return vec![];
    };
    Phase::ALL
        .iter()
        .map(|ph| Step {
            label: ph.label(),
            state: if *ph < cur || cur == Phase::Closed {
                "done"
            } else if *ph == cur {
                "current"
            } else {
                "todo"
            },
        })
        .collect()
}

/// What the current phase still needs, with CIs named rather than numbered.
pub fn still_missing(
    phase: Option<Phase>,
    rec: &Recorded,
    cnames: &HashMap<CiId, String>,
) -> Vec<String> {
    phase
        .filter(|ph| *ph != Phase::Closed)
        .map(|ph| {
            missing(ph, rec)
                .into_iter()
                .map(|m| {
                    cnames.iter().fold(m, |m, (id, n)| {
                        m.replace(&id.to_string(), &format!("“{n}”"))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn action_rows(
    state: &AppState,
    inc: &Incident,
    names: &HashMap<UserId, String>,
    cnames: &HashMap<CiId, String>,
) -> Result<Vec<ActionRow>, WebError> {
    Ok(state
        .store
        .actions(inc.id)
        .await?
        .into_iter()
        .map(|a| ActionRow {
            label: a.kind.label(),
            body: a.body,
            ci: a
                .ci
                .map(|c| cnames.get(&c).cloned().unwrap_or_else(|| c.to_string()))
                .unwrap_or_default(),
            by: name_of(names, a.by),
            at: human(a.at),
        })
        .collect())
}

/// Linked incidents the caller may see (the others stay out of sight).
pub async fn link_rows(
    state: &AppState,
    v: &Viewer,
    inc: &Incident,
) -> Result<Vec<LinkRow>, WebError> {
    let mut links = vec![];
    for l in &inc.links {
        match state.store.incident(v, *l).await {
            Ok(o) => links.push(LinkRow {
                reference: o.reference,
                title: o.title,
                status: status_label(o.status),
            }),
            Err(custos_core::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(links)
}

pub async fn note_rows(
    state: &AppState,
    inc: &Incident,
    names: &HashMap<UserId, String>,
) -> Result<Vec<NoteRow>, WebError> {
    Ok(state
        .store
        .notes(inc.id, false)
        .await?
        .into_iter()
        .map(|n| NoteRow {
            id: n.id.to_string(),
            kind: match n.kind {
                NoteKind::WorkNote => "Work note",
                NoteKind::PublicComment => "Public comment",
                NoteKind::External => "External communication",
            },
            body: n.body,
            audience: n
                .audience
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            recipient: n.recipient,
            status: n.status.as_str(),
            author: name_of(names, n.author),
            at: human(n.created_at),
            decided: n
                .decided_at
                .map(|t| format!("{} by {}", human(t), name_of(names, n.decided_by)))
                .unwrap_or_default(),
            decision_reason: n.decision_reason,
            draft: n.status == CommStatus::Draft,
        })
        .collect())
}

pub async fn file_rows(
    state: &AppState,
    inc: &Incident,
    names: &HashMap<UserId, String>,
) -> Result<Vec<FileRow>, WebError> {
    Ok(state
        .store
        .attachments(inc.id)
        .await?
        .into_iter()
        .map(|a| FileRow {
            id: a.id.to_string(),
            name: a.file_name,
            size: a.size,
            sha256: a.sha256,
            evidence: a.evidence,
            description: a.description,
            by: name_of(names, a.uploaded_by),
            at: human(a.uploaded_at),
        })
        .collect())
}

/// A security incident's need-to-know list, and the people who could be added to it.
pub async fn access_rows(
    state: &AppState,
    inc: &Incident,
    users: &[User],
    names: &HashMap<UserId, String>,
) -> Result<(Vec<AccessRow>, Vec<Opt>), WebError> {
    if !inc.security.flagged {
        return Ok((vec![], vec![]));
    }
    let list = state.store.incident_access(inc.id).await?;
    let addable = users
        .iter()
        .filter(|u| !u.disabled && !list.iter().any(|(x, _)| *x == u.id))
        .map(|u| Opt {
            value: u.id.to_string(),
            label: format!("{} ({})", u.display_name, u.email),
            selected: false,
        })
        .collect();
    let rows = list
        .into_iter()
        .map(|(u, source)| AccessRow {
            user: u.to_string(),
            name: name_of(names, Some(u)),
            source,
        })
        .collect();
    Ok((rows, addable))
}
