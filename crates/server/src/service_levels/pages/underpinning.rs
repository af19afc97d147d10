//! Forms for what underpins a service: operational level agreements (an internal team ×
//! a component × the controls it assures) and underpinning contracts with suppliers; and
//! deleting them from the service page.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::pages::common::field_label;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::resolve_controls;
use crate::service_levels::pages::common::today;
use crate::service_levels::pages::common::write_error;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::sla::{ContractTerms, OlaTerms};
use custos_core::time::Date;
use custos_core::{CiId, ContractId, DepartmentId, OlaId, StoreError, SupplierId};

/// The service a new agreement belongs to, from `?service=` or the form's hidden field.
async fn service_of(state: &AppState, raw: &str) -> Result<(CiId, String), WebError> {
    let id: CiId = raw.trim().parse().map_err(|_| {
        WebError::BadRequest(
            "Open this form from a service page: it needs the service (…?service=ID).".into(),
        )
    })?;
    let s = state.store.service(id).await?;
    Ok((id, s.name))
}

/// Defaults for a new agreement's validity: from today to the end of next year.
fn default_validity() -> (String, String) {
    let t = today();
    let year: i32 = t.as_str()[0..4].parse().unwrap_or(2026);
    (t.as_str().to_string(), format!("{}-12-31", year + 1))
}

fn date(field: &str, form: &Form) -> Result<Date, ApiError> {
    Ok(Date::parse(field, form.get_or_empty(field))?)
}

fn opt_date(field: &str, form: &Form) -> Result<Option<Date>, ApiError> {
    crate::service_levels::pages::common::opt_date(field, form.get_or_empty(field))
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/ola_form.html")]
struct OlaPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    service_id: String,
    team: String,
    departments: Vec<Opt>,
    types: Vec<Opt>,
    component_ci: String,
    controls: String,
    targets: String,
    valid_from: String,
    valid_to: String,
    review_date: String,
    error: Option<String>,
}

async fn ola_page(
    state: &AppState,
    w: &WebUser,
    service: (CiId, String),
    form: Option<&Form>,
    error: Option<String>,
) -> Result<OlaPage, WebError> {
    let (from, to) = default_validity();
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let depts = state
        .store
        .list_departments(PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|d| (d.id.to_string(), d.name));
    let types = state
        .store
        .list_ci_types()
        .await?
        .into_iter()
        .map(|t| (t.name, t.label));
    Ok(OlaPage {
        title: format!("New OLA for {}", service.1),
        nav: Some(Nav::new(w, "/services")),
        csrf: w.session.csrf_token.clone(),
        service_id: service.0.to_string(),
        team: pick("team", String::new()),
        departments: opts(depts, &pick("department_id", String::new())),
        types: opts(types, &pick("component_type", String::new())),
        component_ci: pick("component_ci", String::new()),
        controls: pick("controls", String::new()),
        targets: pick("targets", String::new()),
        valid_from: pick("valid_from", from),
        valid_to: pick("valid_to", to),
        review_date: pick("review_date", String::new()),
        error,
    })
}

pub async fn new_ola(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let service = service_of(&state, q.get("service").map(String::as_str).unwrap_or("")).await?;
    Ok(ola_page(&state, &w, service, None, None)
        .await?
        .into_response())
}

/// The OLA terms a form gives, for `service` (create and edit forms alike).
pub(super) async fn ola_terms(
    state: &AppState,
    service: CiId,
    form: &Form,
) -> Result<OlaTerms, ApiError> {
    let department_id = match form.get_or_empty("department_id").trim() {
        "" => None,
        d => Some(
            d.parse::<DepartmentId>()
                .map_err(|_| ApiError::validation("department_id", "choose a department"))?,
        ),
    };
    let key = form.get_or_empty("component_ci").trim();
    let component_ci = match key {
        "" => None,
        k => Some(
            match k.parse::<CiId>() {
                Ok(id) => state.store.ci(id).await.map(|r| r.ci.id),
                Err(_) => state.store.ci_by_key(k).await.map(|r| r.ci.id),
            }
            .map_err(|e| match e {
                StoreError::NotFound { .. } => {
                    ApiError::validation("component_ci", "no CI has this external key or id")
                }
                other => other.into(),
            })?,
        ),
    };
    let component_type =
        Some(form.get_or_empty("component_type").trim().to_string()).filter(|t| !t.is_empty());
    let terms = OlaTerms {
        service_id: service,
        department_id,
        team: form.get_or_empty("team").to_string(),
        component_ci,
        component_type,
        controls: resolve_controls(state, "controls", form.get_or_empty("controls")).await?,
        targets: form.get_or_empty("targets").to_string(),
        valid_from: date("valid_from", form)?,
        valid_to: date("valid_to", form)?,
        review_date: opt_date("review_date", form)?,
    };
    Ok(terms.validate()?)
}

pub async fn create_ola(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let service = service_of(&state, form.get_or_empty("service_id")).await?;
    let result = async {
        let terms = ola_terms(&state, service.0, &form).await?;
        state
            .store
            .create_ola(&actor, terms)
            .await
            .map_err(write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{}#olas", service.0))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = ola_page(&state, &w, service, Some(&form), Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_ola(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: OlaId = crate::http::page::path_id(&id)?;
    let o = state.store.ola(id).await?;
    state.store.delete_ola(&actor, id).await?;
    Ok(see_other(&format!("/services/{}#olas", o.terms.service_id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/contract_form.html")]
struct ContractPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    service_id: String,
    suppliers: Vec<Opt>,
    contract_title: String,
    security_requirements: String,
    controls: String,
    penalties: String,
    penalty_amount: String,
    currency: String,
    valid_from: String,
    valid_to: String,
    review_date: String,
    can_suppliers: bool,
    error: Option<String>,
}

async fn contract_page(
    state: &AppState,
    w: &WebUser,
    service: (CiId, String),
    form: Option<&Form>,
    error: Option<String>,
) -> Result<ContractPage, WebError> {
    let (from, to) = default_validity();
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let suppliers = state
        .store
        .list_suppliers(PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|s| {
            (
                s.id.to_string(),
                format!("{} ({} risk)", s.name, s.risk_tier.as_str()),
            )
        });
    Ok(ContractPage {
        title: format!("New underpinning contract for {}", service.1),
        nav: Some(Nav::new(w, "/services")),
        csrf: w.session.csrf_token.clone(),
        service_id: service.0.to_string(),
        suppliers: opts(suppliers, &pick("supplier_id", String::new())),
        contract_title: pick("title", String::new()),
        security_requirements: pick("security_requirements", String::new()),
        controls: pick("controls", String::new()),
        penalties: pick("penalties", String::new()),
        penalty_amount: pick("penalty_amount", String::new()),
        currency: pick("currency", String::new()),
        valid_from: pick("valid_from", from),
        valid_to: pick("valid_to", to),
        review_date: pick("review_date", String::new()),
        can_suppliers: w.principal.has(Permission::ManageCustomers),
        error,
    })
}

pub async fn new_contract(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let service = service_of(&state, q.get("service").map(String::as_str).unwrap_or("")).await?;
    Ok(contract_page(&state, &w, service, None, None)
        .await?
        .into_response())
}

/// The contract terms a form gives, for `service` (create and edit forms alike).
pub(super) async fn contract_terms(
    state: &AppState,
    service: CiId,
    form: &Form,
) -> Result<ContractTerms, ApiError> {
    let supplier_id = form
        .get_or_empty("supplier_id")
        .trim()
        .parse::<SupplierId>()
        .map_err(|_| ApiError::validation("supplier_id", "choose a supplier"))?;
    let penalty_amount = match form.get_or_empty("penalty_amount").trim() {
        "" => None,
        a => Some(
            a.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| ApiError::validation("penalty_amount", "must be a number ≥ 0"))?,
        ),
    };
    let terms = ContractTerms {
        supplier_id,
        service_id: service,
        title: form.get_or_empty("title").to_string(),
        security_requirements: form.get_or_empty("security_requirements").to_string(),
        controls: resolve_controls(state, "controls", form.get_or_empty("controls")).await?,
        penalties: form.get_or_empty("penalties").to_string(),
        penalty_amount,
        currency: form.get_or_empty("currency").to_string(),
        valid_from: date("valid_from", form)?,
        valid_to: date("valid_to", form)?,
        review_date: opt_date("review_date", form)?,
    };
    Ok(terms.validate()?)
}

pub async fn create_contract(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let service = service_of(&state, form.get_or_empty("service_id")).await?;
    let result = async {
        let terms = contract_terms(&state, service.0, &form).await?;
        state
            .store
            .create_contract(&actor, terms)
            .await
            .map_err(write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{}#contracts", service.0))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = contract_page(&state, &w, service, Some(&form), Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_contract(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: ContractId = crate::http::page::path_id(&id)?;
    let k = state.store.contract(id).await?;
    state.store.delete_contract(&actor, id).await?;
    Ok(see_other(&format!(
        "/services/{}#contracts",
        k.terms.service_id
    )))
}
