//! `/services` (the service catalogue: a business_service CI's entry with owner, service
//! hours, security baseline and standard targets, and which OLA/UC underpins each SLA
//! requirement), `/olas` and `/contracts` (underpinning contracts).

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::calendar::ServiceHours;
use custos_core::service::{Service, ServiceInput, Targets};
use custos_core::sla::{Contract, ContractTerms, Ola, OlaTerms, RequirementUnderpinning};
use custos_core::time::Date;
use custos_core::{CiId, ContractId, ControlId, OlaId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services))
        .routes(routes!(get_service, put_service))
        .routes(routes!(get_underpinning))
        .routes(routes!(list_olas, create_ola))
        .routes(routes!(get_ola, put_ola, delete_ola))
        .routes(routes!(list_contracts, create_contract))
        .routes(routes!(get_contract, put_contract, delete_contract))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ServiceOut {
    /// The business_service CI.
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub owner_id: Option<Uuid>,
    pub hours: ServiceHours,
    /// The security baseline: controls every customer of the service gets.
    pub baseline: Vec<Uuid>,
    pub targets: Targets,
    pub updated_at: String,
}

impl From<&Service> for ServiceOut {
    fn from(s: &Service) -> Self {
        Self {
            id: s.ci_id.0,
            name: s.name.clone(),
            description: s.description.clone(),
            owner_id: s.owner_id.map(|u| u.0),
            hours: s.hours.clone(),
            baseline: s.baseline.iter().map(|c| c.0).collect(),
            targets: s.targets.clone(),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ServiceList {
    pub items: Vec<ServiceOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    #[serde(default)]
    pub description: String,
    pub owner_id: Option<Uuid>,
    pub hours: ServiceHours,
    #[serde(default)]
    pub baseline: Vec<Uuid>,
    #[serde(default)]
    pub targets: Option<Targets>,
}

/// Lists the service catalogue.
#[utoipa::path(get, path = "/services", tag = "service levels", params(crate::http::api::PageParams),
    responses((status = 200, description = "OK", body = ServiceList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_services(
    State(state): State<AppState>,
    _: Need<perm::ReadServiceLevels>,
    Query(q): Query<crate::http::api::PageParams>,
) -> ApiResult<axum::Json<ServiceList>> {
    let page = state.store.list_services(q.request()).await?;
    Ok(axum::Json(ServiceList {
        items: page.items.iter().map(ServiceOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Reads a service's catalogue entry.
#[utoipa::path(get, path = "/services/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = ServiceOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No catalogue entry for this CI", body = Problem, content_type = "application/problem+json")))]
async fn get_service(
    State(state): State<AppState>,
    _: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ServiceOut>> {
    let s = state.store.service(CiId(parse_id(&id)?)).await?;
    Ok(axum::Json(ServiceOut::from(&s)))
}

/// Creates or replaces the catalogue entry of a business_service CI.
#[utoipa::path(put, path = "/services/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = ServiceIn,
    responses((status = 200, description = "OK", body = ServiceOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such CI, owner or control", body = Problem, content_type = "application/problem+json")))]
async fn put_service(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
    Json(body): Json<ServiceIn>,
) -> ApiResult<axum::Json<ServiceOut>> {
    let input = ServiceInput::new(
        &body.description,
        body.owner_id.map(UserId),
        body.hours,
        body.baseline.into_iter().map(ControlId).collect(),
        body.targets.unwrap_or_default(),
    )?;
    let s = state
        .store
        .put_service(&actor, CiId(parse_id(&id)?), input)
        .await?;
    Ok(axum::Json(ServiceOut::from(&s)))
}

/// Which OLA or underpinning contract assures each control of each requirement of the
/// service's agreed and draft SLAs; `unsupported` flags requirements nothing underpins.
#[utoipa::path(get, path = "/services/{id}/underpinning", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = Vec<RequirementUnderpinning>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn get_underpinning(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<RequirementUnderpinning>>> {
    let today = Date::of(Timestamp::now());
    let u = crate::service_levels::service_underpinning(
        state.store.as_ref(),
        CiId(parse_id(&id)?),
        &today,
    )
    .await?;
    Ok(axum::Json(u))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgreementParams {
    /// Only those of this service.
    pub service: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl AgreementParams {
    fn page(&self) -> custos_core::page::PageRequest {
        custos_core::page::PageRequest::new(self.limit, self.cursor)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OlaOut {
    pub id: Uuid,
    #[serde(flatten)]
    pub terms: OlaTerms,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Ola> for OlaOut {
    fn from(o: &Ola) -> Self {
        Self {
            id: o.id.0,
            terms: o.terms.clone(),
            created_at: rfc3339(o.created_at),
            updated_at: rfc3339(o.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OlaList {
    pub items: Vec<OlaOut>,
    pub next_cursor: Option<Uuid>,
}

/// Lists operational level agreements.
#[utoipa::path(get, path = "/olas", tag = "service levels", params(AgreementParams),
    responses((status = 200, description = "OK", body = OlaList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_olas(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Query(q): Query<AgreementParams>,
) -> ApiResult<axum::Json<OlaList>> {
    let page = state.store.list_olas(q.service.map(CiId), q.page()).await?;
    Ok(axum::Json(OlaList {
        items: page.items.iter().map(OlaOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an OLA: a team × a service component (one CI or a CI type) × the controls and
/// targets it assures.
#[utoipa::path(post, path = "/olas", tag = "service levels", request_body = OlaTerms,
    responses((status = 201, description = "Created", body = OlaOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json")))]
async fn create_ola(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Json(body): Json<OlaTerms>,
) -> ApiResult<(StatusCode, axum::Json<OlaOut>)> {
    let o = state.store.create_ola(&actor, body.validate()?).await?;
    Ok((StatusCode::CREATED, axum::Json(OlaOut::from(&o))))
}

/// Reads an OLA.
#[utoipa::path(get, path = "/olas/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = OlaOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such OLA", body = Problem, content_type = "application/problem+json")))]
async fn get_ola(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<OlaOut>> {
    Ok(axum::Json(OlaOut::from(
        &state.store.ola(OlaId(parse_id(&id)?)).await?,
    )))
}

/// Replaces an OLA.
#[utoipa::path(put, path = "/olas/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = OlaTerms,
    responses((status = 200, description = "OK", body = OlaOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such OLA or service", body = Problem, content_type = "application/problem+json")))]
async fn put_ola(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
    Json(body): Json<OlaTerms>,
) -> ApiResult<axum::Json<OlaOut>> {
    let id = OlaId(parse_id(&id)?);
    let o = state.store.update_ola(&actor, id, body.validate()?).await?;
    Ok(axum::Json(OlaOut::from(&o)))
}

/// Deletes an OLA.
#[utoipa::path(delete, path = "/olas/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such OLA", body = Problem, content_type = "application/problem+json")))]
async fn delete_ola(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_ola(&actor, OlaId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractOut {
    pub id: Uuid,
    #[serde(flatten)]
    pub terms: ContractTerms,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Contract> for ContractOut {
    fn from(c: &Contract) -> Self {
        Self {
            id: c.id.0,
            terms: c.terms.clone(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContractList {
    pub items: Vec<ContractOut>,
    pub next_cursor: Option<Uuid>,
}

/// Lists underpinning contracts.
#[utoipa::path(get, path = "/contracts", tag = "service levels", params(AgreementParams),
    responses((status = 200, description = "OK", body = ContractList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_contracts(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Query(q): Query<AgreementParams>,
) -> ApiResult<axum::Json<ContractList>> {
    let page = state
        .store
        .list_contracts(q.service.map(CiId), q.page())
        .await?;
    Ok(axum::Json(ContractList {
        items: page.items.iter().map(ContractOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an underpinning contract: a supplier × a service with security requirements,
/// the controls the supplier assures, penalties and review date.
#[utoipa::path(post, path = "/contracts", tag = "service levels", request_body = ContractTerms,
    responses((status = 201, description = "Created", body = ContractOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such service or supplier", body = Problem, content_type = "application/problem+json")))]
async fn create_contract(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Json(body): Json<ContractTerms>,
) -> ApiResult<(StatusCode, axum::Json<ContractOut>)> {
    let c = state
        .store
        .create_contract(&actor, body.validate()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ContractOut::from(&c))))
}

/// Reads an underpinning contract.
#[utoipa::path(get, path = "/contracts/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = ContractOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json")))]
async fn get_contract(
    State(state): State<AppState>,
    _: Need<perm::ReadAllServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ContractOut>> {
    Ok(axum::Json(ContractOut::from(
        &state.store.contract(ContractId(parse_id(&id)?)).await?,
    )))
}

/// Replaces an underpinning contract.
#[utoipa::path(put, path = "/contracts/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = ContractTerms,
    responses((status = 200, description = "OK", body = ContractOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such contract, service or supplier", body = Problem, content_type = "application/problem+json")))]
async fn put_contract(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
    Json(body): Json<ContractTerms>,
) -> ApiResult<axum::Json<ContractOut>> {
    let id = ContractId(parse_id(&id)?);
    let c = state
        .store
        .update_contract(&actor, id, body.validate()?)
        .await?;
    Ok(axum::Json(ContractOut::from(&c)))
}

/// Deletes an underpinning contract.
#[utoipa::path(delete, path = "/contracts/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such contract", body = Problem, content_type = "application/problem+json")))]
async fn delete_contract(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_contract(&actor, ContractId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
