//! What the service level pages share: messages that name the field in the form's words,
//! controls named by label, users, customers and services for pickers, dates, the targets
//! inputs of the service and SLA forms, weekdays.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::WebError;
use crate::http::state::AppState;
use custos_core::account::User;
use custos_core::controls::ControlFilter;
use custos_core::page::PageRequest;
use custos_core::service::{Customer, PriorityTarget, Service, Targets};
use custos_core::time::Date;
use custos_core::{ControlId, StoreError, Timestamp, UserId};
use std::collections::HashMap;

pub fn today() -> Date {
    Date::of(Timestamp::now())
}

/// The message shown above a form that was not accepted: a validation problem names the
/// field in the form's own words (`label` turns the field path into them).
pub fn form_message<E: Clone + Into<ApiError>>(e: &E, label: impl Fn(&str) -> String) -> String {
    match e.clone().into() {
        ApiError::Validation { field, message } => format!("{}: {message}", label(&field)),
        other => other.problem().detail,
    }
}

/// Form wording for the field paths the service level rules report.
pub fn field_label(field: &str) -> String {
    let idx = |prefix: &str| {
        field
            .strip_prefix(prefix)
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
    };
    if let Some(i) = idx("targets.priorities[") {
        let what = if field.ends_with("resolution_minutes") {
            "resolution"
        } else {
            "response"
        };
        return format!("P{} {what} time (minutes)", i + 1);
    }
    match field {
        "name" => "Name",
        "kind" => "Kind",
        "department_id" => "Department",
        "representatives" => "Representatives",
        "risk_tier" => "Risk tier",
        "contract_start" => "Contract start",
        "contract_end" => "Contract end",
        "valid_from" => "Valid from",
        "valid_to" => "Valid to",
        "review_date" => "Review date",
        "team" => "Team",
        "component_ci" => "Component",
        "title" => "Title",
        "supplier_id" => "Supplier",
        "penalty_amount" => "Penalty amount",
        "currency" => "Currency",
        "controls" => "Controls",
        "baseline" => "Security baseline",
        "owner_id" => "Owner",
        "ci_id" => "Service",
        "customer_id" => "Customer",
        "service_id" => "Service",
        "availability_pct" | "targets.availability_pct" => "Availability target (%)",
        "service_hours.time_zone" => "Time zone",
        "service_hours.windows" => "Service hours",
        "holidays" => "Holidays",
        "reporting" => "Reporting frequency",
        "period" => "Period",
        other => {
            let words = other.replace(['_', '.'], " ");
            let mut c = words.chars();
            return c
                .next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default();
        }
    }
    .to_string()
}

/// A store write whose referenced record vanished is a mistake in the form, not a missing
/// page.
pub fn write_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound { entity } => {
            ApiError::BadRequest(format!("The chosen {entity} does not exist (any more)."))
        }
        other => other.into(),
    }
}

/// A control named in a form, for display.
pub struct ControlRef {
    pub id: String,
    pub label: String,
    pub title: String,
}

/// Labels and titles of the given controls, in the order given (unknown ones by id).
pub async fn control_refs(
    state: &AppState,
    ids: &[ControlId],
) -> Result<Vec<ControlRef>, WebError> {
    let found: HashMap<ControlId, (String, String)> = state
        .store
        .controls_by_ids(ids)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.spec.label, c.spec.title)))
        .collect();
    Ok(ids
        .iter()
        .map(|id| {
            let (label, title) = found
                .get(id)
                .cloned()
                .unwrap_or_else(|| (id.to_string(), String::new()));
            ControlRef {
                id: id.to_string(),
                label,
                title,
            }
        })
        .collect())
}

/// The controls' labels, one per line, for a textarea.
pub async fn control_lines(state: &AppState, ids: &[ControlId]) -> Result<String, WebError> {
    Ok(control_refs(state, ids)
        .await?
        .into_iter()
        .map(|c| c.label)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Controls named by label (AC-2), catalog id (ac-2) or uuid, separated by commas,
/// semicolons, spaces or new lines. An unknown name is an error on `field` naming it.
pub async fn resolve_controls(
    state: &AppState,
    field: &str,
    text: &str,
) -> Result<Vec<ControlId>, ApiError> {
    let mut out = vec![];
    for name in text
        .split([',', ';', '\n', '\r', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        out.push(resolve_control(state, name).await?.ok_or_else(|| {
            ApiError::validation(
                field,
                format!("no control has the label or id “{name}” (write e.g. AC-2 or ac-2)"),
            )
        })?);
    }
    Ok(out)
}

pub async fn resolve_control(state: &AppState, name: &str) -> Result<Option<ControlId>, ApiError> {
    if let Ok(id) = name.parse::<ControlId>() {
        let found = state.store.controls_by_ids(&[id]).await?;
        return Ok(found.first().map(|c| c.id));
    }
    let wanted = name.to_lowercase();
    let filter = ControlFilter {
        q: Some(wanted.clone()),
        ..Default::default()
    };
    // The words of a label (ac, 2) match many controls; page until the exact one.
    let mut page = PageRequest::first(500);
    loop {
        let found = state.store.list_controls(&filter, page).await?;
        if let Some(c) = found
            .items
            .iter()
            .find(|c| c.spec.control_id == wanted || c.spec.label.to_lowercase() == wanted)
        {
            return Ok(Some(c.id));
        }
        match found.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => return Ok(None),
        }
    }
}

/// Every user account (for pickers and names).
pub async fn all_users(state: &AppState) -> Result<Vec<User>, WebError> {
    let mut out = vec![];
    let mut page = PageRequest::first(500);
    loop {
        let p = state.store.list_users(page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => return Ok(out),
        }
    }
}

pub fn user_names(users: &[User]) -> HashMap<UserId, String> {
    users
        .iter()
        .map(|u| (u.id, u.display_name.clone()))
        .collect()
}

/// Every customer.
pub async fn all_customers(state: &AppState) -> Result<Vec<Customer>, WebError> {
    let mut out = vec![];
    let mut page = PageRequest::first(500);
    loop {
        let p = state.store.list_customers(page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => return Ok(out),
        }
    }
}

/// Every catalogued service.
pub async fn all_services(state: &AppState) -> Result<Vec<Service>, WebError> {
    let mut out = vec![];
    let mut page = PageRequest::first(500);
    loop {
        let p = state.store.list_services(page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => return Ok(out),
        }
    }
}

/// An optional date input: empty is none.
pub fn opt_date(field: &str, s: &str) -> Result<Option<Date>, ApiError> {
    match s.trim() {
        "" => Ok(None),
        s => Ok(Some(Date::parse(field, s)?)),
    }
}

pub fn date_str(d: &Option<Date>) -> String {
    d.as_ref()
        .map(|d| d.as_str().to_string())
        .unwrap_or_default()
}

/// Options from (value, label) pairs.
pub fn opts(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// The targets inputs of the service and SLA forms.
pub struct TargetInputs {
    pub availability: String,
    /// (priority number, response minutes, resolution minutes)
    pub rows: Vec<(usize, String, String)>,
}

impl TargetInputs {
    pub fn of(t: &Targets) -> Self {
        Self {
            availability: custos_core::sla_report::fmt_num(t.availability_pct),
            rows: t
                .priorities
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        i + 1,
                        p.response_minutes.to_string(),
                        p.resolution_minutes.to_string(),
                    )
                })
                .collect(),
        }
    }

    pub fn from_form(f: &Form) -> Self {
        Self {
            availability: f.get_or_empty("availability_pct").to_string(),
            rows: (1..=4)
                .map(|n| {
                    (
                        n,
                        f.get_or_empty(&format!("p{n}_response")).to_string(),
                        f.get_or_empty(&format!("p{n}_resolution")).to_string(),
                    )
                })
                .collect(),
        }
    }
}

/// Reads the targets inputs (the rules check the ranges).
pub fn parse_targets(f: &Form) -> Result<Targets, ApiError> {
    let availability_pct = f
        .get_or_empty("availability_pct")
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .map_err(|_| ApiError::validation("availability_pct", "must be a number like 99.5"))?;
    let mut priorities = [PriorityTarget {
        response_minutes: 0,
        resolution_minutes: 0,
    }; 4];
    for (i, p) in priorities.iter_mut().enumerate() {
        let n = |what: &str| {
            f.get_or_empty(&format!("p{}_{what}", i + 1))
                .trim()
                .parse::<u32>()
                .map_err(|_| {
                    ApiError::validation(
                        format!("targets.priorities[{i}].{what}_minutes"),
                        "must be a whole number of minutes",
                    )
                })
        };
        p.response_minutes = n("response")?;
        p.resolution_minutes = n("resolution")?;
    }
    let t = Targets {
        availability_pct,
        priorities,
    };
    t.validate()?;
    Ok(t)
}

pub struct SlaRow {
    pub id: String,
    pub name: String,
    pub version: i32,
    /// The customer (on a service's page) or the service (on a customer's page).
    pub other: String,
    pub status: &'static str,
    pub valid: String,
}

pub const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

pub fn day_names() -> &'static [(&'static str, &'static str); 7] {
    &DAYS
}
