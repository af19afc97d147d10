//! The SLA list, filtered by status; a customer representative's holds only its
//! customers' SLAs.

use crate::service_levels::pages::common::all_customers;

use crate::service_levels::pages::common::all_services;

use crate::service_levels::pages::common::opts;

use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::state::AppState;
use crate::service_levels::pages::common::today;
use crate::service_levels::visible_customers;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::sla::SlaStatus;
use custos_core::store::SlaFilter;
use std::collections::HashMap;

pub struct ListRow {
    pub id: String,
    pub name: String,
    pub version: i32,
    pub customer: String,
    pub service: String,
    pub valid: String,
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/slas.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    statuses: Vec<crate::accounts::pages::admin::Opt>,
    rows: Vec<ListRow>,
    next: Option<String>,
    can_manage: bool,
    error: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let wanted = q.get("status").map(|s| s.trim()).unwrap_or("").to_string();
    let mut error = None;
    let status = match wanted.as_str() {
        "" => None,
        s => match SlaStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                error = Some("Status: must be draft, agreed, superseded or expired".into());
                None
            }
        },
    };
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let filter = SlaFilter {
        customers: visible_customers(state.store.as_ref(), &w.principal).await?,
        service: None,
        status,
    };
    let page = state
        .store
        .list_slas(&filter, PageRequest::new(Some(50), cursor))
        .await?;
    let customers: HashMap<_, _> = all_customers(&state)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let services: HashMap<_, _> = all_services(&state)
        .await?
        .into_iter()
        .map(|s| (s.ci_id, s.name))
        .collect();
    let today = today();
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if status.is_some() {
            s.append_pair("status", &wanted);
        }
        s.append_pair("cursor", &c.to_string());
        s.finish()
    });
    Ok(ListPage {
        title: "Service level agreements".into(),
        nav: Some(Nav::new(&w, "/slas")),
        statuses: opts(
            ["draft", "agreed", "superseded", "expired"]
                .iter()
                .map(|s| (s.to_string(), s.to_string())),
            &wanted,
        ),
        rows: page
            .items
            .iter()
            .map(|x| ListRow {
                id: x.id.to_string(),
                name: x.terms.name.clone(),
                version: x.version,
                customer: customers
                    .get(&x.terms.customer_id)
                    .cloned()
                    .unwrap_or_default(),
                service: services
                    .get(&x.terms.service_id)
                    .cloned()
                    .unwrap_or_default(),
                valid: format!(
                    "{} to {}",
                    x.terms.valid_from.as_str(),
                    x.terms.valid_to.as_str()
                ),
                status: x.status_on(&today).as_str(),
            })
            .collect(),
        next,
        can_manage: w.principal.has(Permission::ManageServiceLevels),
        error,
    }
    .into_response())
}
