//! `/announcements`: the list of every announcement (filter: active, or upcoming and past)
//! and the form to write, change and withdraw one. `manage_announcements`.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::path_id;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::util::{human, parse_rfc3339};
use crate::incidents::pages::common::{FormProblem, ci_names, opt_id, service_opts};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::announcement::{Announcement, AnnouncementInput, Audience, Severity};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::{AnnouncementId, CiId, Error, Outcome, Timestamp};
use time::{OffsetDateTime, PrimitiveDateTime};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/announcements", get(list).post(create))
        .route("/announcements/new", get(new_form))
        .route("/announcements/{id}", get(edit_form).post(update))
        .route("/announcements/{id}/delete", post(delete))
}

/// Rows per page of the list.
const PAGE: u32 = 50;

pub struct Row {
    pub id: String,
    pub title: String,
    pub severity: &'static str,
    pub audience: &'static str,
    pub service: String,
    pub window: String,
    /// upcoming, active or past.
    pub phase: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "announcements/list.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    filters: Vec<Opt>,
    rows: Vec<Row>,
    next: Option<String>,
    flash: Option<&'static str>,
}

fn flash(key: Option<&String>) -> Option<&'static str> {
    Some(match key?.as_str() {
        "saved" => "The announcement is saved.",
        "deleted" => "The announcement is withdrawn.",
        _ => return None,
    })
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageAnnouncements)?;
    let q = crate::http::page::query_map(raw);
    let active = match q.get("active").map(|s| s.trim()) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let now = Timestamp::now();
    let page = crate::announcements::list(
        state.store.as_ref(),
        &w.principal,
        active,
        PageRequest::new(Some(PAGE), cursor),
        now,
    )
    .await?;
    let services: Vec<CiId> = page.items.iter().filter_map(|a| a.service_id).collect();
    let names = ci_names(&state, &services).await?;
    let chosen = active.map(|a| a.to_string()).unwrap_or_default();
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !chosen.is_empty() {
            s.append_pair("active", &chosen);
        }
        s.append_pair("cursor", &c.to_string());
        s.finish()
    });
    Ok(ListPage {
        title: "Announcements".into(),
        nav: Some(Nav::new(&w, "/announcements")),
        filters: [
            ("", "All"),
            ("true", "Shown now"),
            ("false", "Upcoming and past"),
        ]
        .into_iter()
        .map(|(value, label)| Opt {
            value: value.into(),
            label: label.into(),
            selected: value == chosen,
        })
        .collect(),
        rows: page
            .items
            .into_iter()
            .map(|a| Row {
                id: a.id.to_string(),
                severity: a.severity.label(),
                audience: a.audience.label(),
                service: a
                    .service_id
                    .and_then(|s| names.get(&s).cloned())
                    .unwrap_or_default(),
                window: format!("{} – {}", human(a.starts_at), human(a.ends_at)),
                phase: a.phase(now).as_str(),
                title: a.title,
            })
            .collect(),
        next,
        flash: flash(q.get("done")),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "announcements/form.html")]
struct FormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    ann_title: String,
    body: String,
    severities: Vec<Opt>,
    services: Vec<Opt>,
    starts_at: String,
    ends_at: String,
    audiences: Vec<Opt>,
    problem: Option<FormProblem>,
}

impl FormPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}

/// `2026-11-28T06:00` (UTC), the value of a `datetime-local` input.
fn local_value(ts: Timestamp) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.0) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// A `datetime-local` value (with or without seconds), read as UTC, or RFC 3339.
fn parse_local(field: &str, s: &str) -> Outcome<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Error::validation(field, "is required"));
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(s, &seconds))
        .ok()
        .map(|t| Timestamp((t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64))
        .or_else(|| parse_rfc3339(s))
        .ok_or_else(|| Error::validation(field, "must be a date and time (UTC)"))
}

async fn form_page(
    state: &AppState,
    w: &WebUser,
    a: Option<&Announcement>,
    form: Option<&Form>,
    problem: Option<FormProblem>,
) -> Result<FormPage, WebError> {
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let now = Timestamp::now();
    let severity = pick(
        "severity",
        a.map(|a| a.severity)
            .unwrap_or(Severity::Info)
            .as_str()
            .into(),
    );
    let audience = pick(
        "audience",
        a.map(|a| a.audience)
            .unwrap_or(Audience::Everyone)
            .as_str()
            .into(),
    );
    let service = pick(
        "service_id",
        a.and_then(|a| a.service_id)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    Ok(FormPage {
        title: a
            .map(|a| a.title.clone())
            .unwrap_or_else(|| "New announcement".into()),
        nav: Some(Nav::new(w, "/announcements")),
        csrf: w.session.csrf_token.clone(),
        id: a.map(|a| a.id.to_string()),
        ann_title: pick("title", a.map(|a| a.title.clone()).unwrap_or_default()),
        body: pick("body", a.map(|a| a.body.clone()).unwrap_or_default()),
        severities: Severity::ALL
            .into_iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: s.label().into(),
                selected: s.as_str() == severity,
            })
            .collect(),
        services: service_opts(state, &service).await?,
        starts_at: pick(
            "starts_at",
            local_value(a.map(|a| a.starts_at).unwrap_or(now)),
        ),
        ends_at: pick(
            "ends_at",
            local_value(a.map(|a| a.ends_at).unwrap_or(now.plus_secs(86_400))),
        ),
        audiences: Audience::ALL
            .into_iter()
            .map(|x| Opt {
                value: x.as_str().into(),
                label: x.label().into(),
                selected: x.as_str() == audience,
            })
            .collect(),
        problem,
    })
}

async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageAnnouncements)?;
    Ok(form_page(&state, &w, None, None, None)
        .await?
        .into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageAnnouncements)?;
    let a = state.store.announcement(path_id(&id)?).await?;
    Ok(form_page(&state, &w, Some(&a), None, None)
        .await?
        .into_response())
}

fn announcement_input(form: &Form) -> Outcome<AnnouncementInput> {
    let severity = Severity::parse(form.get_or_empty("severity"))?;
    let audience = Audience::parse(form.get_or_empty("audience"))?;
    Ok(AnnouncementInput::new(
        form.get_or_empty("title"),
        form.get_or_empty("body"),
        severity,
        opt_id(form, "service_id")?,
        parse_local("starts_at", form.get_or_empty("starts_at"))?,
        parse_local("ends_at", form.get_or_empty("ends_at"))?,
        audience,
    )?)
}

const FIELDS: [&str; 7] = [
    "title",
    "body",
    "severity",
    "service_id",
    "starts_at",
    "ends_at",
    "audience",
];

fn label(field: &str) -> String {
    match field {
        "title" => "Title",
        "body" => "Text",
        "severity" => "Kind",
        "service_id" => "Affected service",
        "starts_at" => "Shown from",
        "ends_at" => "Shown until",
        "audience" => "Shown to",
        other => other,
    }
    .into()
}

async fn save(
    state: &AppState,
    w: &WebUser,
    id: Option<AnnouncementId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageAnnouncements)?;
    check_csrf(form, &w.session)?;
    let before = match id {
        Some(id) => Some(state.store.announcement(id).await?),
        None => None,
    };
    let store = state.store.as_ref();
    let result = async {
        let input = announcement_input(form)?;
        match id {
            Some(id) => crate::announcements::update(store, &actor, id, input).await,
            None => crate::announcements::create(store, &actor, input).await,
        }
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/announcements?done=saved")),
        Err(e) if crate::http::page::correctable(&e) => {
            let status = crate::http::page::Refusal::status(&e);
            let p = FormProblem::new("ann", &FIELDS, &e, label);
            let page = form_page(state, w, before.as_ref(), Some(form), Some(p)).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save(&state, &w, None, &form).await
}

async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ManageAnnouncements)?;
    save(&state, &w, Some(path_id(&id)?), &form).await
}

async fn delete(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageAnnouncements)?;
    check_csrf(&form, &w.session)?;
    crate::announcements::delete(state.store.as_ref(), &actor, path_id(&id)?).await?;
    Ok(see_other("/announcements?done=deleted"))
}
