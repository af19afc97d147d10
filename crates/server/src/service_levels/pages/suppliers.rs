//! Suppliers: contact, security requirements, risk tier and contract dates, with the
//! underpinning contracts made with them. For those who see all service levels; changed
//! by those who manage customers.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::pages::common::date_str;
use crate::service_levels::pages::common::field_label;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opt_date;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::write_error;
use crate::service_levels::pages::customers::delete_error;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use custos_core::SupplierId;
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::service::{RiskTier, Supplier, SupplierInput};
use std::collections::HashMap;

pub struct SupplierRow {
    pub id: String,
    pub name: String,
    pub risk: &'static str,
    pub contract: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/suppliers.html")]
struct SuppliersPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<SupplierRow>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    can_manage: bool,
}

/// Suppliers in id order, 50 a page (`?cursor=` from the "Next page" link).
pub async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadAllServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let p = state
        .store
        .list_suppliers(PageRequest::new(
            Some(crate::service_levels::pages::customers::PAGE),
            cursor,
        ))
        .await?;
    let rows = p
        .items
        .into_iter()
        .map(|s| SupplierRow {
            id: s.id.to_string(),
            risk: s.risk_tier.as_str(),
            contract: match (&s.contract_start, &s.contract_end) {
                (None, None) => String::new(),
                (a, b) => format!("{} to {}", date_str(a), date_str(b)),
            },
            name: s.name,
        })
        .collect();
    let next = p.next_cursor.map(|c| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", &c.to_string())
            .finish()
    });
    Ok(SuppliersPage {
        title: "Suppliers".into(),
        nav: Some(Nav::new(&w, "/suppliers")),
        rows,
        next,
        can_manage: w.principal.has(Permission::ManageCustomers),
    }
    .into_response())
}

pub struct ContractRow {
    pub service_id: String,
    pub service: String,
    pub title: String,
    pub valid: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/supplier.html")]
struct SupplierPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    name: String,
    contact: String,
    security_requirements: String,
    tiers: Vec<Opt>,
    risk: String,
    contract_start: String,
    contract_end: String,
    contracts: Vec<ContractRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn supplier_page(
    state: &AppState,
    w: &WebUser,
    s: Option<&Supplier>,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<SupplierPage, WebError> {
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let risk = pick(
        "risk_tier",
        s.map(|s| s.risk_tier.as_str())
            .unwrap_or("medium")
            .to_string(),
    );
    let mut contracts = vec![];
    if let Some(s) = s {
        let services: HashMap<_, _> = crate::service_levels::pages::common::all_services(state)
            .await?
            .into_iter()
            .map(|s| (s.ci_id, s.name))
            .collect();
        let mut page = PageRequest::first(500);
        loop {
            let p = state.store.list_contracts(None, page).await?;
            for k in p.items.iter().filter(|k| k.terms.supplier_id == s.id) {
                contracts.push(ContractRow {
                    service_id: k.terms.service_id.to_string(),
                    service: services
                        .get(&k.terms.service_id)
                        .cloned()
                        .unwrap_or_default(),
                    title: k.terms.title.clone(),
                    valid: format!(
                        "{} to {}",
                        k.terms.valid_from.as_str(),
                        k.terms.valid_to.as_str()
                    ),
                });
            }
            match p.next_cursor {
                Some(c) => page = PageRequest::new(Some(500), Some(c)),
                None => break,
            }
        }
    }
    Ok(SupplierPage {
        title: s
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "New supplier".into()),
        nav: Some(Nav::new(w, "/suppliers")),
        csrf: w.session.csrf_token.clone(),
        id: s.map(|s| s.id.to_string()),
        name: pick("name", s.map(|s| s.name.clone()).unwrap_or_default()),
        contact: pick("contact", s.map(|s| s.contact.clone()).unwrap_or_default()),
        security_requirements: pick(
            "security_requirements",
            s.map(|s| s.security_requirements.clone())
                .unwrap_or_default(),
        ),
        tiers: opts(
            RiskTier::ALL
                .iter()
                .map(|t| (t.as_str().to_string(), t.as_str().to_string())),
            &risk,
        ),
        risk,
        contract_start: pick(
            "contract_start",
            s.map(|s| date_str(&s.contract_start)).unwrap_or_default(),
        ),
        contract_end: pick(
            "contract_end",
            s.map(|s| date_str(&s.contract_end)).unwrap_or_default(),
        ),
        contracts,
        can_manage: w.principal.has(Permission::ManageCustomers),
        error,
    })
}

pub async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageCustomers)?;
    Ok(supplier_page(&state, &w, None, None, None)
        .await?
        .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadAllServiceLevels)?;
    let s = state
        .store
        .supplier(crate::http::page::path_id(&id)?)
        .await?;
    Ok(supplier_page(&state, &w, Some(&s), None, None)
        .await?
        .into_response())
}

fn supplier_input(form: &Form) -> Result<SupplierInput, ApiError> {
    Ok(SupplierInput::new(
        form.get_or_empty("name"),
        form.get_or_empty("contact"),
        form.get_or_empty("security_requirements"),
        RiskTier::parse(form.get_or_empty("risk_tier"))?,
        opt_date("contract_start", form.get_or_empty("contract_start"))?,
        opt_date("contract_end", form.get_or_empty("contract_end"))?,
    )?)
}

async fn save_supplier(
    state: &AppState,
    w: &WebUser,
    id: Option<SupplierId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCustomers)?;
    check_csrf(form, &w.session)?;
    let before = match id {
        Some(id) => Some(state.store.supplier(id).await?),
        None => None,
    };
    let result = async {
        let input = supplier_input(form)?;
        match id {
            Some(id) => state.store.update_supplier(&actor, id, input).await,
            None => state.store.create_supplier(&actor, input).await,
        }
        .map_err(write_error)
    }
    .await;
    match result {
        Ok(s) => Ok(see_other(&format!("/suppliers/{}", s.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = supplier_page(state, w, before.as_ref(), Some(form), Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save_supplier(&state, &w, None, &form).await
}

pub async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ManageCustomers)?;
    save_supplier(&state, &w, Some(crate::http::page::path_id(&id)?), &form).await
}

pub async fn delete(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCustomers)?;
    check_csrf(&form, &w.session)?;
    let s = state
        .store
        .supplier(crate::http::page::path_id(&id)?)
        .await?;
    match state.store.delete_supplier(&actor, s.id).await {
        Ok(()) => Ok(see_other("/suppliers")),
        Err(e) => {
            let e = delete_error(
                e,
                "This supplier still has underpinning contracts, so it cannot be deleted.",
            );
            if !crate::http::page::correctable(&e) {
                return Err(e.into());
            }
            let msg = form_message(&e, field_label);
            let page = supplier_page(&state, &w, Some(&s), None, Some(msg)).await?;
            Ok((e.status(), page).into_response())
        }
    }
}
