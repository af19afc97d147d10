//! The agents' incident list (filters, full-text search, counts, saved filters, CSV export).
//! Every read passes the caller's need-to-know viewer: a security incident the caller may
//! not see is in no list, count or export. Also the router of all incident pages (the
//! new-incident form is in `incident_new`, the page of one in `incident_detail`, its forms
//! in `incident_forms`).

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::incidents::comms::check_filter;
use crate::incidents::pages::common;
use crate::incidents::pages::common::FormProblem;
use crate::incidents::pages::common::PAGE;
use crate::incidents::pages::common::clocks;
use crate::incidents::pages::common::field_label;
use crate::incidents::pages::common::flash;
use crate::incidents::pages::common::group_opts;
use crate::incidents::pages::common::handler_opts;
use crate::incidents::pages::common::status_label;
use crate::incidents::records::IncidentQuery;
use crate::incidents::records::incidents_csv;
use crate::incidents::viewer;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::incident::{Priority, Status};
use custos_core::page::PageRequest;
use custos_core::ticket::IncidentFilter;
use custos_core::{FilterId, UserId};

pub fn router() -> Router<AppState> {
    use crate::incidents::pages::detail as d;
    use crate::incidents::pages::forms as f;
    use crate::incidents::pages::new as n;
    Router::new()
        .route("/incidents", get(list).post(n::record))
        .route("/incidents.csv", get(csv))
        .route("/incidents/new", get(n::new_form))
        .route("/incident-filters", post(save_filter))
        .route("/incident-filters/{id}/delete", post(delete_filter))
        .route("/incidents/{id}", get(d::show).post(f::edit))
        .route("/incidents/{id}/timeline", get(d::timeline))
        .route("/incidents/{id}/attachments/{attachment}", get(d::download))
}

/// The list's filter keys, in the order of the canonical query string.
const KEYS: [&str; 12] = [
    "open",
    "status",
    "priority",
    "group",
    "assignee",
    "reporter",
    "service",
    "security",
    "major",
    "breached",
    "awaiting_approval",
    "q",
];

/// The filters of a list address: the canonical query string (known keys, non-empty
/// values, the last of repeats) and the cursor.
fn canonical(raw: Option<&str>) -> (String, Option<uuid::Uuid>) {
    let mut values: Vec<(&str, String)> = vec![];
    let mut cursor = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if k == "cursor" {
            cursor = uuid::Uuid::parse_str(v.trim()).ok();
            continue;
        }
        let Some(key) = KEYS.iter().find(|x| **x == k) else {
            continue;
        };
        values.retain(|(x, _)| x != key);
        if !v.trim().is_empty() {
            values.push((key, v.trim().to_string()));
        }
    }
    values.sort_by_key(|(k, _)| KEYS.iter().position(|x| x == k));
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &values {
        ser.append_pair(k, v);
    }
    (ser.finish(), cursor)
}

/// The filter of a canonical query (errors name the filter's input).
fn parse_filter(query: &str, me: UserId) -> custos_core::Outcome<IncidentFilter> {
    let m = crate::http::page::query_map(Some(query.to_string()));
    let flag = |k: &str| match m.get(k).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(custos_core::Error::validation(k, "choose yes or no")),
    };
    let id = |k: &str| match m.get(k) {
        None => Ok(None),
        Some(s) => uuid::Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| custos_core::Error::validation(k, "choose from the list")),
    };
    IncidentQuery {
        open: flag("open")?,
        status: m.get("status").cloned(),
        group: id("group")?,
        assignee: m.get("assignee").cloned(),
        reporter: m.get("reporter").cloned(),
        priority: m.get("priority").cloned(),
        service: id("service")?,
        security: flag("security")?,
        major: flag("major")?,
        breached: flag("breached")?,
        awaiting_approval: flag("awaiting_approval")?,
        q: m.get("q").cloned(),
        ..Default::default()
    }
    .filter(me)
}

pub struct Row {
    pub reference: String,
    pub title: String,
    pub priority: &'static str,
    pub status: &'static str,
    pub service: String,
    pub assignee: String,
    pub clocks: Vec<common::ClockView>,
    pub security: bool,
    pub major: bool,
}

pub struct SavedRow {
    pub id: String,
    pub name: String,
    pub query: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/list.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    rows: Vec<Row>,
    count: i64,
    query: String,
    next: Option<String>,
    open: bool,
    q: String,
    statuses: Vec<Opt>,
    priorities: Vec<Opt>,
    groups: Vec<Opt>,
    assignees: Vec<Opt>,
    reporters: Vec<Opt>,
    services: Vec<Opt>,
    security: Vec<Opt>,
    major: Vec<Opt>,
    saved: Vec<SavedRow>,
    filter_name: String,
    can_manage: bool,
    flash: Option<&'static str>,
    problem: Option<FormProblem>,
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    let done = crate::http::page::query_map(raw.clone()).remove("done");
    let page = list_page(&state, &w, raw.as_deref(), None, "").await?;
    let status = page
        .problem
        .as_ref()
        .map(|_| axum::http::StatusCode::BAD_REQUEST)
        .unwrap_or(axum::http::StatusCode::OK);
    Ok((
        status,
        ListPage {
            flash: flash(done.as_ref()),
            ..page
        },
    )
        .into_response())
}

async fn list_page(
    state: &AppState,
    w: &WebUser,
    raw: Option<&str>,
    problem: Option<FormProblem>,
    filter_name: &str,
) -> Result<ListPage, WebError> {
    let (query, cursor) = canonical(raw);
    let values = crate::http::page::query_map(Some(query.clone()));
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let v = viewer(&w.principal);
    let users = all_users(state).await?;
    let names = user_names(&users);
    let groups = state.store.list_groups().await?;
    let (mut rows, mut count, mut next, mut problem) = (vec![], 0, None, problem);
    match parse_filter(&query, w.principal.user_id) {
        Err(e) => problem = Some(FormProblem::new("f", &[get_field(&e)], &e, field_label)),
        Ok(f) => {
            let page = state
                .store
                .list_incidents(&v, &f, PageRequest::new(Some(PAGE), cursor))
                .await?;
            count = state.store.count_incidents(&v, &f).await?;
            let services: Vec<_> = page.items.iter().filter_map(|i| i.service).collect();
            let svc_names = common::ci_names(state, &services).await?;
            rows = page
                .items
                .iter()
                .map(|i| Row {
                    reference: i.reference.clone(),
                    title: i.title.clone(),
                    priority: i.priority.label(),
                    status: status_label(i.status),
                    service: i
                        .service
                        .map(|s| svc_names.get(&s).cloned().unwrap_or_default())
                        .unwrap_or_default(),
                    assignee: common::name_of(&names, i.assignee),
                    clocks: clocks(i),
                    security: i.security.flagged,
                    major: i.major.is_some(),
                })
                .collect();
            next = page.next_cursor.map(|c| {
                let mut ser = form_urlencoded::Serializer::new(query.clone());
                ser.append_pair("cursor", &c.to_string());
                ser.finish()
            });
        }
    }
    let saved = state
        .store
        .filters(w.principal.user_id)
        .await?
        .into_iter()
        .map(|f| SavedRow {
            id: f.id.to_string(),
            name: f.name,
            query: f.query,
        })
        .collect();
    let yes_no = |chosen: String| {
        opts(
            [
                ("true".to_string(), "Yes".to_string()),
                ("false".to_string(), "No".to_string()),
            ],
            &chosen,
        )
    };
    let mut assignees = vec![Opt {
        value: "me".into(),
        label: "Me".into(),
        selected: get("assignee") == "me",
    }];
    assignees.extend(handler_opts(&users, &get("assignee")));
    let mut reporters = vec![Opt {
        value: "me".into(),
        label: "Me".into(),
        selected: get("reporter") == "me",
    }];
    let mut people: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.id.to_string(), u.display_name.clone()))
        .collect();
    people.sort_by_key(|(_, n)| n.to_lowercase());
    reporters.extend(opts(people, &get("reporter")));
    let services = common::service_opts(state, &get("service")).await?;
    Ok(ListPage {
        title: "Incidents".into(),
        nav: Some(Nav::new(w, "/incidents")),
        csrf: w.session.csrf_token.clone(),
        rows,
        count,
        next,
        open: get("open") == "true",
        q: get("q"),
        statuses: opts(
            Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), status_label(*s).to_string())),
            &get("status"),
        ),
        priorities: opts(
            Priority::ALL
                .iter()
                .map(|p| (p.as_str().to_string(), p.label().to_string())),
            &get("priority"),
        ),
        groups: group_opts(&groups, &get("group")),
        assignees,
        reporters,
        services,
        security: yes_no(get("security")),
        major: yes_no(get("major")),
        saved,
        filter_name: filter_name.to_string(),
        can_manage: w.principal.has(Permission::ManageIncidents),
        flash: None,
        problem,
        query,
    })
}

/// The filter input a validation error is about.
fn get_field(e: &custos_core::Error) -> &'static str {
    match e {
        custos_core::Error::Validation { field, .. } => {
            KEYS.iter().find(|k| *k == field).copied().unwrap_or("q")
        }
        _ => "q",
    }
}

/// Every incident the filters match (that the caller may see), as CSV.
async fn csv(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    let (query, _) = canonical(raw.as_deref());
    let f = parse_filter(&query, w.principal.user_id)?;
    let v = viewer(&w.principal);
    let items = crate::service_levels::every(|page| {
        let (store, f) = (state.store.clone(), f.clone());
        async move { store.list_incidents(&v, &f, page).await }
    })
    .await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"incidents.csv\"",
            ),
        ],
        incidents_csv(&items),
    )
        .into_response())
}

async fn save_filter(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    check_csrf(&form, &w.session)?;
    let (query, _) = canonical(Some(form.get_or_empty("query")));
    let result = async {
        let (name, query) = check_filter(form.get_or_empty("name"), &query)?;
        state
            .store
            .save_filter(w.principal.user_id, &name, &query)
            .await?;
        Ok::<String, ApiError>(query)
    }
    .await;
    match result {
        Ok(q) => Ok(see_other(&format!("/incidents?{q}&done=filter"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let p = FormProblem::new("save", &["name", "query"], &e, field_label);
            let page =
                list_page(&state, &w, Some(&query), Some(p), form.get_or_empty("name")).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_filter(
    State(state): State<AppState>,
    w: WebUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ReadIncidents)?;
    check_csrf(&form, &w.session)?;
    let id: FilterId = crate::http::page::path_id(&id)?;
    state.store.delete_filter(w.principal.user_id, id).await?;
    Ok(see_other("/incidents?done=filter_deleted"))
}

impl ListPage {
    fn invalid(&self, id: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.is(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_queries_keep_known_filled_keys_in_order() {
        let (q, c) = canonical(Some(
            "q=vpn&status=&open=true&x=1&q=mail&cursor=00000000-0000-0000-0000-000000000001",
        ));
        assert_eq!(q, "open=true&q=mail");
        assert!(c.is_some());
        let (q, c) = canonical(None);
        assert_eq!((q.as_str(), c), ("", None));
    }

    #[test]
    fn bad_filters_name_their_input() {
        let e = parse_filter("security=maybe", UserId(uuid::Uuid::nil())).unwrap_err();
        assert_eq!(get_field(&e), "security");
        let e = parse_filter("status=gone", UserId(uuid::Uuid::nil())).unwrap_err();
        assert_eq!(get_field(&e), "status");
    }
}
