//! Problem pages: the list with filters, recording a problem, and the known errors agents
//! look up. The page of one problem (fields, fixes, security review, linked incidents) is
//! in `problem_page.rs`.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::Refusal as _;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::problems as uc;
use crate::service_levels::pages::common::all_services;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opts;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::Role;
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::problem::{Problem, ProblemFields, ProblemFilter, ProblemStatus};
use custos_core::ticket::IncidentFilter;
use custos_core::{CiId, StoreError, Timestamp, UserId};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    use crate::problems::pages::page;
    Router::new()
        .route("/problems", get(list).post(create))
        .route("/problems/new", get(new_form))
        .route("/problems/{id}", get(page::show).post(page::update))
        .route("/problems/{id}/fix", post(page::fix))
        .route("/problems/{id}/review", post(page::review))
        .route("/problems/{id}/incidents", post(page::incidents))
        .route("/problems/{id}/apply", post(page::apply))
        .route("/known-errors", get(known_errors))
}

/// Rows on a page of the problem lists.
const PAGE: u32 = 50;

/// Form wording for the problem fields.
pub fn field_label(field: &str) -> String {
    match field {
        "title" => "Title",
        "description" => "Description",
        "root_cause" => "Root cause",
        "service" => "Service",
        "cis" => "Affected CIs",
        "assignee" => "Assignee",
        "status" => "Status",
        "text" => "Text",
        "fix" => "Fix",
        "reasons" => "Reasons",
        "sla_requirements_met" => "SLA requirements kept",
        "baseline_met" => "Baseline controls kept",
        "incident" => "Incident",
        other => other,
    }
    .to_string()
}

/// The CIs named in a form: external keys or ids, one per line (or comma-separated).
pub async fn parse_cis(state: &AppState, text: &str) -> custos_core::Outcome<Vec<CiId>> {
    let mut out = vec![];
    for token in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(custos_core::problem::MAX_CIS + 1)
    {
        let id = match token.parse::<CiId>() {
            Ok(id) => id,
            Err(_) => match state.store.ci_by_key(token).await {
                Ok(r) => r.ci.id,
                Err(StoreError::NotFound { .. }) => {
                    return Err(custos_core::Error::validation(
                        "cis",
                        format!("no CI has the external key {token:?}"),
                    ));
                }
                Err(e) => return Err(e.into()),
            },
        };
        out.push(id);
    }
    Ok(out)
}

/// The optional id of a select (empty: none).
pub fn optional_id<T: std::str::FromStr>(
    form: &Form,
    field: &str,
) -> custos_core::Outcome<Option<T>> {
    match form.get_or_empty(field).trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| custos_core::Error::validation(field, "choose one of the list")),
    }
}

/// The service and assignee pickers.
pub async fn pickers(
    state: &AppState,
    service: &str,
    assignee: &str,
) -> Result<(Vec<Opt>, Vec<Opt>), WebError> {
    let services = all_services(state)
        .await?
        .into_iter()
        .map(|s| (s.ci_id.to_string(), s.name));
    let people = all_users(state)
        .await?
        .into_iter()
        .filter(|u| u.roles.contains(Role::Agent) || u.roles.contains(Role::SecurityManager))
        .map(|u| (u.id.to_string(), u.display_name));
    Ok((opts(services, service), opts(people, assignee)))
}

pub struct ProblemRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub service: String,
    pub workaround: &'static str,
    pub risk: bool,
}

pub fn rows(items: Vec<Problem>, services: &HashMap<CiId, String>) -> Vec<ProblemRow> {
    items
        .into_iter()
        .map(|p| ProblemRow {
            id: p.id.to_string(),
            service: p
                .service
                .and_then(|s| services.get(&s).cloned())
                .unwrap_or_default(),
            reference: p.reference,
            title: p.title,
            status: p.status.as_str(),
            status_label: p.status.label(),
            workaround: p.workaround.state.label(),
            risk: p.introduces_security_risk,
        })
        .collect()
}

async fn service_names(state: &AppState) -> Result<HashMap<CiId, String>, WebError> {
    Ok(all_services(state)
        .await?
        .into_iter()
        .map(|s| (s.ci_id, s.name))
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/list.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<ProblemRow>,
    q: String,
    statuses: Vec<Opt>,
    services: Vec<Opt>,
    known_error: bool,
    next: Option<String>,
    can_manage: bool,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadProblems)?;
    let q = crate::http::page::query_map(raw);
    let get = |k: &str| {
        q.get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (status, service, text) = (get("status"), get("service"), get("q"));
    let known_error = get("known_error") == "true";
    let mut error = None;
    let filter = ProblemFilter {
        status: match status.as_str() {
            "" => None,
            s => ProblemStatus::parse(s)
                .map_err(|e| error = Some(format!("Status: {}", e.message)))
                .ok(),
        },
        known_error: known_error.then_some(true),
        service: service.parse().ok(),
        awaiting_review: get("awaiting_review") == "true",
        incident: None,
        text: IncidentFilter::terms(&text),
    };
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let page = state
        .store
        .list_problems(&filter, PageRequest::new(Some(PAGE), cursor))
        .await?;
    let names = service_names(&state).await?;
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("status", &status), ("service", &service), ("q", &text)] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if known_error {
            s.append_pair("known_error", "true");
        }
        s.append_pair("cursor", &c.to_string()).finish()
    });
    let statuses = opts(
        ProblemStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.label().to_string())),
        &status,
    );
    let services = opts(
        names.iter().map(|(id, n)| (id.to_string(), n.clone())),
        &service,
    );
    Ok(ListPage {
        title: "Problems".into(),
        nav: Some(Nav::new(&w, "/problems")),
        rows: rows(page.items, &names),
        q: text,
        statuses,
        services,
        known_error,
        next,
        can_manage: w.principal.has(Permission::ManageProblems),
        error,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/new.html")]
struct NewPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    p_title: String,
    description: String,
    root_cause: String,
    cis: String,
    risk: bool,
    services: Vec<Opt>,
    assignees: Vec<Opt>,
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    w: &WebUser,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<NewPage, WebError> {
    let f = |k: &str| {
        form.map(|f| f.get_or_empty(k).to_string())
            .unwrap_or_default()
    };
    let (services, assignees) = pickers(state, &f("service"), &f("assignee")).await?;
    Ok(NewPage {
        title: "New problem".into(),
        nav: Some(Nav::new(w, "/problems")),
        csrf: w.session.csrf_token.clone(),
        p_title: f("title"),
        description: f("description"),
        root_cause: f("root_cause"),
        cis: f("cis"),
        risk: form.is_some_and(|f| f.checked("introduces_security_risk")),
        services,
        assignees,
        error,
    })
}

async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageProblems)?;
    Ok(new_page(&state, &w, None, None).await?.into_response())
}

async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageProblems)?;
    check_csrf(&form, &w.session)?;
    let result = async {
        let fields = ProblemFields {
            title: form.get_or_empty("title").to_string(),
            description: form.get_or_empty("description").to_string(),
            service: optional_id::<CiId>(&form, "service")?,
            cis: parse_cis(&state, form.get_or_empty("cis")).await?,
            assignee: optional_id::<UserId>(&form, "assignee")?,
            root_cause: form.get_or_empty("root_cause").to_string(),
            introduces_security_risk: form.checked("introduces_security_risk"),
        };
        uc::create(state.store.as_ref(), &actor, fields, Timestamp::now()).await
    }
    .await;
    match result {
        Ok(p) => Ok(see_other(&format!("/problems/{}", p.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let page =
                new_page(&state, &w, Some(&form), Some(form_message(&e, field_label))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct KnownErrorRow {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub service: String,
    pub workaround: String,
    pub published: String,
    pub reviewed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems/known_errors.html")]
struct KnownErrorsPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<KnownErrorRow>,
    q: String,
    services: Vec<crate::accounts::pages::admin::Opt>,
    next: Option<String>,
}

async fn known_errors(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadProblems)?;
    let q = crate::http::page::query_map(raw);
    let text = q.get("q").cloned().unwrap_or_default();
    let service = q.get("service").cloned().unwrap_or_default();
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let filter = ProblemFilter {
        known_error: Some(true),
        // A service that is not one of the choices matches nothing.
        service: match service.as_str() {
            "" => None,
            s => Some(s.parse().unwrap_or(custos_core::CiId(uuid::Uuid::nil()))),
        },
        text: IncidentFilter::terms(&text),
        ..Default::default()
    };
    let page = state
        .store
        .list_problems(&filter, PageRequest::new(Some(PAGE), cursor))
        .await?;
    let names = service_names(&state).await?;
    let next = page.next_cursor.map(|c| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &text)
            .append_pair("service", &service)
            .append_pair("cursor", &c.to_string())
            .finish()
    });
    let rows = page
        .items
        .into_iter()
        .map(|p| KnownErrorRow {
            id: p.id.to_string(),
            service: p
                .service
                .and_then(|s| names.get(&s).cloned())
                .unwrap_or_default(),
            published: p
                .workaround
                .published_at
                .map(crate::http::util::human)
                .unwrap_or_default(),
            reviewed: p.workaround.review.is_some(),
            reference: p.reference,
            title: p.title,
            workaround: p.workaround.text,
        })
        .collect();
    Ok(KnownErrorsPage {
        title: "Known errors".into(),
        nav: Some(Nav::new(&w, "/known-errors")),
        rows,
        q: text,
        services: crate::incidents::pages::common::service_opts(&state, &service).await?,
        next,
    }
    .into_response())
}
