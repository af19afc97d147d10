//! Customers (external, or internal business units, with the users who represent them).
//! A customer representative sees only the customers it represents; another customer's
//! page is forbidden, as in the API. Also the router of the supplier pages.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::all_slas;
use crate::service_levels::pages::common::SlaRow;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::field_label;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::today;
use crate::service_levels::pages::common::write_error;
use crate::service_levels::visible_customers;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::Role;
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::service::{Customer, CustomerInput, CustomerKind};
use custos_core::store::SlaFilter;
use custos_core::{CustomerId, DepartmentId, StoreError, UserId};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    use crate::service_levels::pages::suppliers;
    Router::new()
        .route("/customers", get(customers).post(create_customer))
        .route("/customers/new", get(new_customer))
        .route("/customers/{id}", get(customer).post(update_customer))
        .route("/customers/{id}/delete", post(delete_customer))
        .route("/suppliers", get(suppliers::list).post(suppliers::create))
        .route("/suppliers/new", get(suppliers::new_form))
        .route(
            "/suppliers/{id}",
            get(suppliers::show).post(suppliers::update),
        )
        .route("/suppliers/{id}/delete", post(suppliers::delete))
}

/// A conflict on delete, in words.
pub fn delete_error(e: StoreError, what: &str) -> ApiError {
    match e {
        StoreError::Conflict { .. } => ApiError::Conflict(what.into()),
        other => other.into(),
    }
}

pub struct CustomerRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub representatives: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/customers.html")]
struct CustomersPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<CustomerRow>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    can_manage: bool,
}

/// Customers in id order, 50 a page (`?cursor=` from the "Next page" link). A customer
/// representative's list holds only the customers it represents, paged the same way.
async fn customers(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let (items, next_cursor) = match visible_customers(state.store.as_ref(), &w.principal).await? {
        None => {
            let p = state
                .store
                .list_customers(PageRequest::new(Some(PAGE), cursor))
                .await?;
            (p.items, p.next_cursor)
        }
        Some(mut mine) => {
            mine.sort_by_key(|c| c.0);
            mine.retain(|c| cursor.is_none_or(|after| c.0 > after));
            let more = mine.len() > PAGE as usize;
            mine.truncate(PAGE as usize);
            let mut items = vec![];
            for id in &mine {
                match state.store.customer(*id).await {
                    Ok(c) => items.push(c),
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            (items, mine.last().filter(|_| more).map(|c| c.0))
        }
    };
    let names = crate::service_levels::pages::common::user_names(&all_users(&state).await?);
    let rows = items
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id.to_string(),
            name: c.name,
            kind: c.kind.as_str(),
            representatives: c
                .representatives
                .iter()
                .filter_map(|u| names.get(u).cloned())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let next = next_cursor.map(|c| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", &c.to_string())
            .finish()
    });
    Ok(CustomersPage {
        title: "Customers".into(),
        nav: Some(Nav::new(&w, "/customers")),
        rows,
        next,
        can_manage: w.principal.has(Permission::ManageCustomers),
    }
    .into_response())
}

/// Rows on a page of the customer and supplier lists.
pub const PAGE: u32 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/customer.html")]
struct CustomerPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    /// None on the new-customer form.
    id: Option<String>,
    name: String,
    kinds: Vec<Opt>,
    departments: Vec<Opt>,
    contact: String,
    notes: String,
    reps: Vec<Opt>,
    /// Read-only view for those who may not change it.
    kind_word: String,
    department: String,
    slas: Vec<SlaRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn customer_page(
    state: &AppState,
    w: &WebUser,
    c: Option<&Customer>,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<CustomerPage, WebError> {
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let kind = pick(
        "kind",
        c.map(|c| c.kind.as_str()).unwrap_or("external").to_string(),
    );
    let dept = pick(
        "department_id",
        c.and_then(|c| c.department_id)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let chosen: Vec<String> = match form {
        Some(f) => f
            .all("representatives")
            .iter()
            .map(|s| s.to_string())
            .collect(),
        None => c
            .map(|c| c.representatives.iter().map(|u| u.to_string()).collect())
            .unwrap_or_default(),
    };
    let departments = state
        .store
        .list_departments(PageRequest::first(500))
        .await?
        .items;
    let department = departments
        .iter()
        .find(|d| d.id.to_string() == dept)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let reps = all_users(state)
        .await?
        .into_iter()
        .filter(|u| {
            u.roles.contains(Role::CustomerRepresentative) || chosen.contains(&u.id.to_string())
        })
        .map(|u| Opt {
            selected: chosen.contains(&u.id.to_string()),
            value: u.id.to_string(),
            label: format!("{} ({})", u.display_name, u.email),
        })
        .collect();
    let slas = match c {
        Some(c) => {
            let services: HashMap<_, _> = crate::service_levels::pages::common::all_services(state)
                .await?
                .into_iter()
                .map(|s| (s.ci_id, s.name))
                .collect();
            let today = today();
            all_slas(
                state.store.as_ref(),
                &SlaFilter {
                    customers: Some(vec![c.id]),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|x| SlaRow {
                id: x.id.to_string(),
                name: x.terms.name.clone(),
                version: x.version,
                other: services
                    .get(&x.terms.service_id)
                    .cloned()
                    .unwrap_or_default(),
                status: x.status_on(&today).as_str(),
                valid: format!(
                    "{} to {}",
                    x.terms.valid_from.as_str(),
                    x.terms.valid_to.as_str()
                ),
            })
            .collect()
        }
        None => vec![],
    };
    Ok(CustomerPage {
        title: c
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "New customer".into()),
        nav: Some(Nav::new(w, "/customers")),
        csrf: w.session.csrf_token.clone(),
        id: c.map(|c| c.id.to_string()),
        name: pick("name", c.map(|c| c.name.clone()).unwrap_or_default()),
        kind_word: kind.clone(),
        kinds: opts(
            [
                ("external".to_string(), "External customer".to_string()),
                ("internal".to_string(), "Internal business unit".to_string()),
            ],
            &kind,
        ),
        departments: opts(
            departments
                .iter()
                .map(|d| (d.id.to_string(), d.name.clone())),
            &dept,
        ),
        department,
        contact: pick("contact", c.map(|c| c.contact.clone()).unwrap_or_default()),
        notes: pick("notes", c.map(|c| c.notes.clone()).unwrap_or_default()),
        reps,
        slas,
        can_manage: w.principal.has(Permission::ManageCustomers),
        error,
    })
}

/// A customer `w` may see (another customer's is forbidden, as in the API).
async fn visible_customer(state: &AppState, w: &WebUser, id: &str) -> Result<Customer, WebError> {
    let c = state
        .store
        .customer(crate::http::page::path_id(id)?)
        .await?;
    if let Some(mine) = visible_customers(state.store.as_ref(), &w.principal).await?
        && !mine.contains(&c.id)
    {
        return Err(WebError::Forbidden);
    }
    Ok(c)
}

async fn new_customer(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageCustomers)?;
    Ok(customer_page(&state, &w, None, None, None)
        .await?
        .into_response())
}

async fn customer(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let c = visible_customer(&state, &w, &id).await?;
    Ok(customer_page(&state, &w, Some(&c), None, None)
        .await?
        .into_response())
}

fn customer_input(form: &Form) -> Result<CustomerInput, ApiError> {
    let department_id = match form.get_or_empty("department_id").trim() {
        "" => None,
        d => Some(
            d.parse::<DepartmentId>()
                .map_err(|_| ApiError::validation("department_id", "choose a department"))?,
        ),
    };
    let mut reps = vec![];
    for r in form.all("representatives") {
        reps.push(
            r.parse::<UserId>()
                .map_err(|_| ApiError::validation("representatives", "choose users"))?,
        );
    }
    Ok(CustomerInput::new(
        form.get_or_empty("name"),
        CustomerKind::parse(form.get_or_empty("kind"))?,
        department_id,
        form.get_or_empty("contact"),
        form.get_or_empty("notes"),
        reps,
    )?)
}

async fn save_customer(
    state: &AppState,
    w: &WebUser,
    id: Option<CustomerId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCustomers)?;
    check_csrf(form, &w.session)?;
    let before = match id {
        Some(id) => Some(state.store.customer(id).await?),
        None => None,
    };
    let result = async {
        let input = customer_input(form)?;
        match id {
            Some(id) => state.store.update_customer(&actor, id, input).await,
            None => state.store.create_customer(&actor, input).await,
        }
        .map_err(write_error)
    }
    .await;
    match result {
        Ok(c) => Ok(see_other(&format!("/customers/{}", c.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = customer_page(state, w, before.as_ref(), Some(form), Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create_customer(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save_customer(&state, &w, None, &form).await
}

async fn update_customer(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ManageCustomers)?;
    save_customer(&state, &w, Some(crate::http::page::path_id(&id)?), &form).await
}

async fn delete_customer(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCustomers)?;
    check_csrf(&form, &w.session)?;
    let c = state
        .store
        .customer(crate::http::page::path_id(&id)?)
        .await?;
    match state.store.delete_customer(&actor, c.id).await {
        Ok(()) => Ok(see_other("/customers")),
        Err(e) => {
            let e = delete_error(e, "This customer still has SLAs, so it cannot be deleted.");
            if !crate::http::page::correctable(&e) {
                return Err(e.into());
            }
            let msg = form_message(&e, field_label);
            let page = customer_page(&state, &w, Some(&c), None, Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
    }
}
