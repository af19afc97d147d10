//! What the incident pages share: words for statuses, priorities, clocks and plain-language
//! impact and urgency, the pickers (services, CIs, groups, people), reading affected CIs
//! from a form, and the error summary that links each problem to its field.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::WebError;
use crate::http::state::AppState;
use crate::http::util::human;
use crate::service_levels::pages::common::opts;
use custos_core::account::{Role, User};
use custos_core::incident::{Impact, Status, Urgency};
use custos_core::page::PageRequest;
use custos_core::sla_clock::ClockState;
use custos_core::store::CiFilter;
use custos_core::ticket::{Group, Incident, Viewer};
use custos_core::{CiId, StoreError, UserId};
use std::collections::HashMap;

/// Rows on a page of the incident lists.
pub const PAGE: u32 = 50;

/// At most this many CIs are offered in a multi-select.
pub const CI_CHOICES: u32 = 200;

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::New => "New",
        Status::InProgress => "In progress",
        Status::OnHold => "On hold",
        Status::Resolved => "Resolved",
        Status::Closed => "Closed",
    }
}

/// Impact in the words of someone reporting a problem.
pub fn impact_words(i: Impact) -> &'static str {
    match i {
        Impact::High => "Many people or a whole service",
        Impact::Medium => "A team or several people",
        Impact::Low => "Only me or one person",
    }
}

/// Urgency in the words of someone reporting a problem.
pub fn urgency_words(u: Urgency) -> &'static str {
    match u {
        Urgency::High => "I cannot work at all",
        Urgency::Medium => "I can work, but with difficulty",
        Urgency::Low => "It can wait",
    }
}

/// A radio button of a fieldset.
pub struct Radio {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

pub fn impact_radios(chosen: &str, plain: bool) -> Vec<Radio> {
    Impact::ALL
        .iter()
        .map(|i| Radio {
            value: i.as_str(),
            label: if plain {
                impact_words(*i).to_string()
            } else {
                format!("{} — {}", capitalised(i.as_str()), impact_words(*i))
            },
            checked: i.as_str() == chosen,
        })
        .collect()
}

pub fn urgency_radios(chosen: &str, plain: bool) -> Vec<Radio> {
    Urgency::ALL
        .iter()
        .map(|u| Radio {
            value: u.as_str(),
            label: if plain {
                urgency_words(*u).to_string()
            } else {
                format!("{} — {}", capitalised(u.as_str()), urgency_words(*u))
            },
            checked: u.as_str() == chosen,
        })
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// One SLA target of an incident's clock, in words (the state is always written out).
pub struct ClockView {
    pub target: &'static str,
    /// ok, warning, breached, met, missed or paused (also the CSS class suffix).
    pub state: &'static str,
    pub due: String,
    pub percent: u32,
}

impl ClockView {
    pub fn of(target: &'static str, c: &ClockState) -> Self {
        let state = if c.paused && !c.state.is_stopped() {
            "paused"
        } else {
            c.state.as_str()
        };
        Self {
            target,
            state,
            due: c.due_at.map(human).unwrap_or_else(|| "—".into()),
            percent: c.percent,
        }
    }

    pub fn is_alarm(&self) -> bool {
        matches!(self.state, "breached" | "missed")
    }
}

/// The response and resolution clocks of an incident, if it has any.
pub fn clocks(i: &Incident) -> Vec<ClockView> {
    i.clock
        .map(|c| {
            vec![
                ClockView::of("Response", &c.response),
                ClockView::of("Resolution", &c.resolution),
            ]
        })
        .unwrap_or_default()
}

/// A CI named on a page, linked to the CMDB.
pub struct CiRef {
    pub id: String,
    pub name: String,
}

/// Names of these CIs (unknown ones by id).
pub async fn ci_names(state: &AppState, ids: &[CiId]) -> Result<HashMap<CiId, String>, WebError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(state
        .store
        .cis_by_ids(&ids)
        .await?
        .into_iter()
        .map(|r| (r.ci.id, r.ci.name))
        .collect())
}

pub fn ci_refs(ids: &[CiId], names: &HashMap<CiId, String>) -> Vec<CiRef> {
    ids.iter()
        .map(|id| CiRef {
            id: id.to_string(),
            name: names.get(id).cloned().unwrap_or_else(|| id.to_string()),
        })
        .collect()
}

/// Business services from the CMDB for a select, `chosen` selected.
pub async fn service_opts(state: &AppState, chosen: &str) -> Result<Vec<Opt>, WebError> {
    let filter = CiFilter {
        ci_type: Some("business_service".into()),
        ..Default::default()
    };
    let mut items: Vec<(String, String)> = state
        .store
        .list_cis(&filter, PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|r| (r.ci.id.to_string(), r.ci.name))
        .collect();
    items.sort_by_key(|a| a.1.to_lowercase());
    Ok(opts(items, chosen))
}

/// Up to [`CI_CHOICES`] CIs that are not business services for a multi-select, plus the
/// chosen ones (always offered, so that saving a form never drops one).
pub async fn ci_opts(state: &AppState, chosen: &[String]) -> Result<Vec<Opt>, WebError> {
    let mut items: Vec<(String, String)> = state
        .store
        .list_cis(&CiFilter::default(), PageRequest::first(CI_CHOICES))
        .await?
        .items
        .into_iter()
        .filter(|r| r.ci.ci_type != "business_service")
        .map(|r| {
            (
                r.ci.id.to_string(),
                format!("{} ({})", r.ci.name, r.ci.ci_type),
            )
        })
        .collect();
    let missing: Vec<CiId> = chosen
        .iter()
        .filter(|c| !items.iter().any(|(id, _)| id == *c))
        .filter_map(|c| c.parse().ok())
        .collect();
    if !missing.is_empty() {
        for r in state.store.cis_by_ids(&missing).await? {
            items.push((
                r.ci.id.to_string(),
                format!("{} ({})", r.ci.name, r.ci.ci_type),
            ));
        }
    }
    items.sort_by_key(|a| a.1.to_lowercase());
    Ok(items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: chosen.contains(&value),
            value,
            label,
        })
        .collect())
}

/// The affected CIs of a form: the multi-select `cis` and the text field `cis_more` (ids
/// or external keys separated by commas, semicolons, spaces or new lines).
pub async fn form_cis(state: &AppState, form: &Form) -> custos_core::Outcome<Vec<CiId>> {
    let mut out = vec![];
    for v in form.all("cis").into_iter().filter(|v| !v.trim().is_empty()) {
        out.push(
            v.trim()
                .parse::<CiId>()
                .map_err(|_| custos_core::Error::validation("cis", "choose CIs from the list"))?,
        );
    }
    for name in form
        .get_or_empty("cis_more")
        .split([',', ';', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if let Ok(id) = name.parse::<CiId>() {
            out.push(id);
            continue;
        }
        match state.store.ci_by_key(name).await {
            Ok(r) => out.push(r.ci.id),
            Err(StoreError::NotFound { .. }) => {
                return Err(custos_core::Error::validation(
                    "cis_more",
                    format!("no CI has the id or external key “{name}”"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// An optional id from a select: empty is none.
pub fn opt_id<T: std::str::FromStr>(form: &Form, field: &str) -> custos_core::Outcome<Option<T>> {
    match form.get_or_empty(field).trim() {
        "" => Ok(None),
        s => s
            .parse()
            .map(Some)
            .map_err(|_| custos_core::Error::validation(field, "choose from the list")),
    }
}

/// People who work incidents (agents and security managers), for assignee and lead pickers.
pub fn handler_opts(users: &[User], chosen: &str) -> Vec<Opt> {
    opts(
        users
            .iter()
            .filter(|u| {
                let handles =
                    u.roles.contains(Role::Agent) || u.roles.contains(Role::SecurityManager);
                (handles && !u.disabled) || u.id.to_string() == chosen
            })
            .map(|u| {
                (
                    u.id.to_string(),
                    format!("{} ({})", u.display_name, u.email),
                )
            }),
        chosen,
    )
}

pub fn group_opts(groups: &[Group], chosen: &str) -> Vec<Opt> {
    opts(
        groups.iter().map(|g| (g.id.to_string(), g.name.clone())),
        chosen,
    )
}

/// A person's name for display ("—" for nobody, "a former user" for a deleted account).
pub fn name_of(names: &HashMap<UserId, String>, u: Option<UserId>) -> String {
    match u {
        None => "—".into(),
        Some(u) => names
            .get(&u)
            .cloned()
            .unwrap_or_else(|| "a former user".into()),
    }
}

/// Finds an incident for a page: anything that is not a visible incident is not found.
pub async fn load(state: &AppState, v: &Viewer, id: &str) -> Result<Incident, WebError> {
    crate::incidents::records::find(state, v, id)
        .await
        .map_err(|e| match e {
            custos_core::Error::Validation { .. } | custos_core::Error::NotFound(_) => {
                WebError::NotFound
            }
            other => other.into(),
        })
}

/// A problem with a submitted form, shown in an error summary whose link moves focus to
/// the field.
pub struct FormProblem {
    /// The id of the field (or of the form when no field is to blame).
    pub field_id: String,
    pub message: String,
}

impl FormProblem {
    /// `fields` are the form's field names; its inputs have the ids `{form}-{field}`.
    pub fn new<E: Clone + Into<ApiError>>(
        form: &str,
        fields: &[&str],
        e: &E,
        label: impl Fn(&str) -> String,
    ) -> Self {
        match e.clone().into() {
            ApiError::Validation { field, message } => {
                let known = fields.iter().find(|f| **f == field.as_str());
                let field_id = match known.or(fields.first()) {
                    Some(f) => format!("{form}-{f}"),
                    None => form.to_string(),
                };
                Self {
                    field_id,
                    message: format!("{}: {message}", label(&field)),
                }
            }
            other => Self {
                field_id: fields
                    .first()
                    .map(|f| format!("{form}-{f}"))
                    .unwrap_or_else(|| form.to_string()),
                message: other.problem().detail,
            },
        }
    }

    /// Whether the field with this id is the one in error.
    pub fn is(&self, id: &str) -> bool {
        self.field_id == id
    }
}

/// Form wording for the fields the incident rules report.
pub fn field_label(field: &str) -> String {
    match field {
        "title" => "Title",
        "description" => "Description",
        "category" => "Category",
        "impact" => "Impact",
        "urgency" => "Urgency",
        "service" => "Service",
        "cis" | "cis_more" => "Affected CIs",
        "group" => "Group",
        "assignee" => "Assignee",
        "reporter" => "Reported by",
        "status" => "Status",
        "resolution" => "Resolution notes",
        "reason" => "Reason",
        "phase" => "Procedure phase",
        "lead" => "Incident lead",
        "cadence_minutes" => "Update cadence (minutes)",
        "kind" => "Kind",
        "body" => "Text",
        "ci" => "CI",
        "audience" => "Audience",
        "recipient" => "Recipient",
        "file" | "file_name" => "File",
        "user" => "Person",
        "other" | "id" => "Incident reference",
        "name" => "Name",
        "query" => "Filter",
        "members" => "Members",
        other => return crate::service_levels::pages::common::field_label(other),
    }
    .to_string()
}

/// What a flash key in the address (`?done=…`) says; unknown keys say nothing.
pub fn flash(key: Option<&String>) -> Option<&'static str> {
    Some(match key?.as_str() {
        "created" => "The incident is recorded.",
        "reported" => "Thank you — your report is recorded. We will keep you informed here.",
        "saved" => "The changes are saved.",
        "flagged" => "It is now handled as a security incident.",
        "unflagged" => "It is no longer handled as a security incident.",
        "phase" => "The procedure moved to its next phase.",
        "major" => "It is now a major incident.",
        "step" => "The step is recorded.",
        "note" => "The entry is added to the communications log.",
        "draft" => {
            "The external communication is saved as a draft: a security manager must approve it before it goes out."
        }
        "approved" => "The communication is approved and recorded as sent.",
        "rejected" => "The communication is rejected.",
        "file" => "The file is stored with its SHA-256.",
        "access" => "The need-to-know list is updated.",
        "linked" => "The incidents are linked.",
        "unlinked" => "The link is removed.",
        "comment" => "Your comment is added.",
        "hidden" => "Done. The security team handles it now; it is no longer visible to you.",
        "filter" => "The filter is saved.",
        "filter_deleted" => "The filter is deleted.",
        "group" => "The group is saved.",
        "group_deleted" => "The group is deleted.",
        _ => return None,
    })
}
