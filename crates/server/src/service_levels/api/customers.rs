//! `/customers` (external customers and internal business units, with representatives) and
//! `/suppliers` (contact, security requirements, risk tier, contract dates).

use crate::http::api::PageParams;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use crate::service_levels::visible_customers;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::service::{
    Customer, CustomerInput, CustomerKind, RiskTier, Supplier, SupplierInput,
};
use custos_core::time::Date;
use custos_core::{CustomerId, DepartmentId, SupplierId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer, put_customer, delete_customer))
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(get_supplier, put_supplier, delete_supplier))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomerOut {
    pub id: Uuid,
    pub name: String,
    pub kind: CustomerKind,
    pub department_id: Option<Uuid>,
    pub contact: String,
    pub notes: String,
    /// Users who speak for this customer.
    pub representatives: Vec<Uuid>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Customer> for CustomerOut {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id.0,
            name: c.name.clone(),
            kind: c.kind,
            department_id: c.department_id.map(|d| d.0),
            contact: c.contact.clone(),
            notes: c.notes.clone(),
            representatives: c.representatives.iter().map(|u| u.0).collect(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomerList {
    pub items: Vec<CustomerOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    pub name: String,
    /// external or internal.
    pub kind: String,
    /// For an internal business unit: its department.
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub representatives: Vec<Uuid>,
}

impl CustomerIn {
    fn validate(&self) -> Result<CustomerInput, custos_core::DomainError> {
        CustomerInput::new(
            &self.name,
            CustomerKind::parse(&self.kind)?,
            self.department_id.map(DepartmentId),
            &self.contact,
            &self.notes,
            self.representatives.iter().copied().map(UserId).collect(),
        )
    }
}

/// Lists customers (a customer representative sees only those it represents).
#[utoipa::path(get, path = "/customers", tag = "service levels", params(PageParams),
    responses((status = 200, description = "OK", body = CustomerList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_customers(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<CustomerList>> {
    let page = state.store.list_customers(q.request()).await?;
    let mine = visible_customers(state.store.as_ref(), &principal).await?;
    Ok(axum::Json(CustomerList {
        items: page
            .items
            .iter()
            .filter(|c| mine.as_ref().is_none_or(|m| m.contains(&c.id)))
            .map(CustomerOut::from)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a customer.
#[utoipa::path(post, path = "/customers", tag = "service levels", request_body = CustomerIn,
    responses((status = 201, description = "Created", body = CustomerOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "A representative or the department does not exist", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_customer(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Json(body): Json<CustomerIn>,
) -> ApiResult<(StatusCode, axum::Json<CustomerOut>)> {
    let c = state
        .store
        .create_customer(&actor, body.validate()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(CustomerOut::from(&c))))
}

/// Reads a customer.
#[utoipa::path(get, path = "/customers/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = CustomerOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Not one of your customers", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json")))]
async fn get_customer(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CustomerOut>> {
    let c = state.store.customer(CustomerId(parse_id(&id)?)).await?;
    if let Some(mine) = visible_customers(state.store.as_ref(), &principal).await?
        && !mine.contains(&c.id)
    {
        return Err(ApiError::Forbidden(custos_core::authz::Forbidden(
            custos_core::authz::Permission::ReadAllServiceLevels,
        )));
    }
    Ok(axum::Json(CustomerOut::from(&c)))
}

/// Replaces a customer.
#[utoipa::path(put, path = "/customers/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = CustomerIn,
    responses((status = 200, description = "OK", body = CustomerOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such customer, representative or department", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn put_customer(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Path(id): Path<String>,
    Json(body): Json<CustomerIn>,
) -> ApiResult<axum::Json<CustomerOut>> {
    let id = CustomerId(parse_id(&id)?);
    let c = state
        .store
        .update_customer(&actor, id, body.validate()?)
        .await?;
    Ok(axum::Json(CustomerOut::from(&c)))
}

/// Deletes a customer that no SLA refers to.
#[utoipa::path(delete, path = "/customers/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"), (status = 409, description = "SLAs refer to it", body = Problem, content_type = "application/problem+json")))]
async fn delete_customer(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_customer(&actor, CustomerId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplierOut {
    pub id: Uuid,
    pub name: String,
    pub contact: String,
    pub security_requirements: String,
    pub risk_tier: RiskTier,
    #[schema(value_type = Option<String>, format = Date)]
    pub contract_start: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub contract_end: Option<Date>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Supplier> for SupplierOut {
    fn from(s: &Supplier) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            contact: s.contact.clone(),
            security_requirements: s.security_requirements.clone(),
            risk_tier: s.risk_tier,
            contract_start: s.contract_start.clone(),
            contract_end: s.contract_end.clone(),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplierList {
    pub items: Vec<SupplierOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierIn {
    pub name: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub security_requirements: String,
    /// low, medium, high or critical.
    pub risk_tier: String,
    /// YYYY-MM-DD.
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
}

impl SupplierIn {
    fn validate(&self) -> Result<SupplierInput, custos_core::DomainError> {
        let date =
            |f: &str, v: &Option<String>| v.as_deref().map(|s| Date::parse(f, s)).transpose();
        SupplierInput::new(
            &self.name,
            &self.contact,
            &self.security_requirements,
            RiskTier::parse(&self.risk_tier)?,
            date("contract_start", &self.contract_start)?,
            date("contract_end", &self.contract_end)?,
        )
    }
}

/// Lists suppliers.
#[utoipa::path(get, path = "/suppliers", tag = "service levels", params(PageParams),
    responses((status = 200, description = "OK", body = SupplierList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_suppliers(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<SupplierList>> {
    let page = state.store.list_suppliers(q.request()).await?;
    Ok(axum::Json(SupplierList {
        items: page.items.iter().map(SupplierOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a supplier.
#[utoipa::path(post, path = "/suppliers", tag = "service levels", request_body = SupplierIn,
    responses((status = 201, description = "Created", body = SupplierOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_supplier(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Json(body): Json<SupplierIn>,
) -> ApiResult<(StatusCode, axum::Json<SupplierOut>)> {
    let s = state
        .store
        .create_supplier(&actor, body.validate()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(SupplierOut::from(&s))))
}

/// Reads a supplier.
#[utoipa::path(get, path = "/suppliers/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = SupplierOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json")))]
async fn get_supplier(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SupplierOut>> {
    let s = state.store.supplier(SupplierId(parse_id(&id)?)).await?;
    Ok(axum::Json(SupplierOut::from(&s)))
}

/// Replaces a supplier.
#[utoipa::path(put, path = "/suppliers/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = SupplierIn,
    responses((status = 200, description = "OK", body = SupplierOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json")))]
async fn put_supplier(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Path(id): Path<String>,
    Json(body): Json<SupplierIn>,
) -> ApiResult<axum::Json<SupplierOut>> {
    let id = SupplierId(parse_id(&id)?);
    let s = state
        .store
        .update_supplier(&actor, id, body.validate()?)
        .await?;
    Ok(axum::Json(SupplierOut::from(&s)))
}

/// Deletes a supplier that no contract refers to.
#[utoipa::path(delete, path = "/suppliers/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Contracts refer to it", body = Problem, content_type = "application/problem+json")))]
async fn delete_supplier(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCustomers>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_supplier(&actor, SupplierId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
