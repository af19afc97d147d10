//! The catalogue entry form of a business service: description, owner, service hours
//! (time zone, one window per weekday, holidays), security baseline (control labels) and
//! standard targets.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::pages::common::TargetInputs;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::control_lines;
use crate::service_levels::pages::common::day_names;
use crate::service_levels::pages::common::field_label;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::parse_targets;
use crate::service_levels::pages::common::resolve_controls;
use crate::service_levels::pages::common::write_error;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::account::Role;
use custos_core::authz::Permission;
use custos_core::calendar::{ServiceHours, Window};
use custos_core::service::{Service, ServiceInput, Targets};
use custos_core::time::Date;
use custos_core::{CiId, StoreError, UserId};

pub struct DayInput {
    pub key: &'static str,
    pub name: &'static str,
    pub start: String,
    pub end: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/service_form.html")]
struct FormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    exists: bool,
    description: String,
    owners: Vec<Opt>,
    time_zone: String,
    days: Vec<DayInput>,
    holidays: String,
    baseline: String,
    targets: TargetInputs,
    split_shifts: bool,
    error: Option<String>,
}

async fn existing(state: &AppState, id: CiId) -> Result<Option<Service>, WebError> {
    match state.store.service(id).await {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn form_page(
    state: &AppState,
    w: &WebUser,
    id: CiId,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<FormPage, WebError> {
    let ci = state.store.ci(id).await?;
    let current = existing(state, id).await?;
    let hours = current
        .as_ref()
        .map(|s| s.hours.clone())
        .unwrap_or_else(|| ServiceHours::office_hours("UTC", "08:00", "18:00"));
    let error = error.or_else(|| {
        (ci.ci.ci_type != "business_service").then(|| {
            "Only a configuration item of type business service can be in the service catalogue."
                .to_string()
        })
    });
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let owner = pick(
        "owner_id",
        current
            .as_ref()
            .and_then(|s| s.owner_id)
            .map(|o| o.to_string())
            .unwrap_or_default(),
    );
    let mut owners = vec![Opt {
        value: String::new(),
        label: "None (any service owner)".into(),
        selected: owner.is_empty(),
    }];
    for u in all_users(state).await? {
        let id = u.id.to_string();
        if u.roles.contains(Role::ServiceOwner) || id == owner {
            owners.push(Opt {
                selected: id == owner,
                value: id,
                label: format!("{} ({})", u.display_name, u.email),
            });
        }
    }
    let mut split_shifts = false;
    let days = day_names()
        .iter()
        .map(|(key, name)| {
            let mine: Vec<&Window> = hours.windows.iter().filter(|w| w.day == *key).collect();
            split_shifts |= mine.len() > 1;
            DayInput {
                key,
                name,
                start: pick(
                    &format!("start_{key}"),
                    mine.first().map(|w| w.start.clone()).unwrap_or_default(),
                ),
                end: pick(
                    &format!("end_{key}"),
                    mine.first().map(|w| w.end.clone()).unwrap_or_default(),
                ),
            }
        })
        .collect();
    let targets = match form {
        Some(f) => TargetInputs::from_form(f),
        None => TargetInputs::of(
            &current
                .as_ref()
                .map(|s| s.targets.clone())
                .unwrap_or_default(),
        ),
    };
    let baseline = match form {
        Some(f) => f.get_or_empty("baseline").to_string(),
        None => match &current {
            Some(s) => control_lines(state, &s.baseline).await?,
            None => String::new(),
        },
    };
    Ok(FormPage {
        title: format!("Catalogue entry: {}", ci.ci.name),
        nav: Some(Nav::new(w, "/services")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        exists: current.is_some(),
        description: pick(
            "description",
            current
                .as_ref()
                .map(|s| s.description.clone())
                .unwrap_or_default(),
        ),
        owners,
        time_zone: pick("time_zone", hours.time_zone.clone()),
        days,
        holidays: pick("holidays", hours.holidays.join("\n")),
        baseline,
        targets,
        split_shifts,
        error,
    })
}

pub async fn edit(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let id: CiId = crate::http::page::path_id(&id)?;
    Ok(form_page(&state, &w, id, None, None).await?.into_response())
}

/// Service hours from the form, with the weekday of each window (for messages).
fn parse_hours(form: &Form) -> Result<(ServiceHours, Vec<&'static str>), ApiError> {
    let mut windows = vec![];
    let mut window_days = vec![];
    for (key, name) in day_names() {
        let start = form.get_or_empty(&format!("start_{key}")).trim();
        let end = form.get_or_empty(&format!("end_{key}")).trim();
        match (start.is_empty(), end.is_empty()) {
            (true, true) => {}
            (false, false) => {
                windows.push(Window {
                    day: (*key).into(),
                    start: start.into(),
                    end: end.into(),
                });
                window_days.push(*name);
            }
            _ => {
                return Err(ApiError::validation(
                    format!("hours_{key}"),
                    "give both the start and the end (HH:MM), or leave both empty when closed",
                ));
            }
        }
    }
    let mut holidays = vec![];
    for (n, line) in form.get_or_empty("holidays").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let d = Date::parse("holidays", line).map_err(|_| {
            ApiError::validation(
                "holidays",
                format!("line {}: “{line}” is not a date YYYY-MM-DD", n + 1),
            )
        })?;
        holidays.push(d.as_str().to_string());
    }
    let hours = ServiceHours {
        time_zone: form.get_or_empty("time_zone").trim().to_string(),
        windows,
        holidays,
    };
    Ok((hours, window_days))
}

/// "Monday start" for `service_hours.windows[0].start`, and so on.
fn hours_label(field: &str, window_days: &[&str]) -> String {
    if let Some(day) = field.strip_prefix("hours_") {
        let name = day_names()
            .iter()
            .find(|(k, _)| *k == day)
            .map(|(_, n)| *n)
            .unwrap_or(day);
        return format!("{name} hours");
    }
    if let Some(rest) = field.strip_prefix("service_hours.windows[") {
        let (i, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let day = i
            .parse::<usize>()
            .ok()
            .and_then(|i| window_days.get(i))
            .copied()
            .unwrap_or("Service");
        return match tail {
            ".start" => format!("{day} start"),
            ".end" => format!("{day} end"),
            _ => format!("{day} hours"),
        };
    }
    field_label(field)
}

pub async fn save(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: CiId = crate::http::page::path_id(&id)?;
    state.store.ci(id).await?;
    let mut window_days = vec![];
    let result = async {
        let (hours, days) = parse_hours(&form)?;
        window_days = days;
        let owner = match form.get_or_empty("owner_id").trim() {
            "" => None,
            o => Some(
                o.parse::<UserId>()
                    .map_err(|_| ApiError::validation("owner_id", "choose a user"))?,
            ),
        };
        let baseline = resolve_controls(&state, "baseline", form.get_or_empty("baseline")).await?;
        let targets: Targets = parse_targets(&form)?;
        let input = ServiceInput::new(
            form.get_or_empty("description"),
            owner,
            hours,
            baseline,
            targets,
        )?;
        state
            .store
            .put_service(&actor, id, input)
            .await
            .map_err(write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{id}"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, |f| hours_label(f, &window_days));
            let page = form_page(&state, &w, id, Some(&form), Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
