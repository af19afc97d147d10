//! `/departments`: organisational units and their security profiles.

use crate::http::api::PageParams;
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
use custos_core::DepartmentId;
use custos_core::account::{Department, MonitoringLevel, NewDepartment, SecurityProfile};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_departments, create_department))
        .routes(routes!(get_department, put_department, delete_department))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDto {
    /// Members must use TOTP to sign in.
    pub mfa_required: bool,
    /// Absolute web session lifetime, 5–43200 minutes.
    pub session_lifetime_minutes: i64,
    /// Idle timeout, 1 minute up to the lifetime.
    pub idle_timeout_minutes: i64,
    /// Access requests need two approvals.
    pub access_two_approvals: bool,
    /// standard, elevated or high.
    pub monitoring_level: String,
}

impl From<&SecurityProfile> for ProfileDto {
    fn from(p: &SecurityProfile) -> Self {
        Self {
            mfa_required: p.mfa_required,
            session_lifetime_minutes: p.session_lifetime_minutes,
            idle_timeout_minutes: p.idle_timeout_minutes,
            access_two_approvals: p.access_two_approvals,
            monitoring_level: p.monitoring_level.as_str().into(),
        }
    }
}

impl TryFrom<&ProfileDto> for SecurityProfile {
    type Error = custos_core::DomainError;
    fn try_from(p: &ProfileDto) -> Result<Self, Self::Error> {
        let profile = SecurityProfile {
            mfa_required: p.mfa_required,
            session_lifetime_minutes: p.session_lifetime_minutes,
            idle_timeout_minutes: p.idle_timeout_minutes,
            access_two_approvals: p.access_two_approvals,
            monitoring_level: MonitoringLevel::parse(&p.monitoring_level).map_err(|e| {
                custos_core::DomainError::new("profile.monitoring_level", e.message)
            })?,
        };
        profile.validate().map_err(|e| {
            custos_core::DomainError::new(format!("profile.{}", e.field), e.message)
        })?;
        Ok(profile)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DepartmentOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub profile: ProfileDto,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Department> for DepartmentOut {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.0,
            name: d.name.clone(),
            description: d.description.clone(),
            profile: ProfileDto::from(&d.profile),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DepartmentList {
    pub items: Vec<DepartmentOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentIn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub profile: ProfileDto,
}

impl DepartmentIn {
    fn validate(&self) -> Result<NewDepartment, custos_core::DomainError> {
        NewDepartment::new(
            &self.name,
            &self.description,
            SecurityProfile::try_from(&self.profile)?,
        )
    }
}

/// Lists departments.
#[utoipa::path(get, path = "/departments", tag = "departments", params(PageParams),
    responses((status = 200, description = "OK", body = DepartmentList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_departments(
    State(state): State<AppState>,
    _: Need<perm::ReadDepartments>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<DepartmentList>> {
    let page = state.store.list_departments(q.request()).await?;
    Ok(axum::Json(DepartmentList {
        items: page.items.iter().map(DepartmentOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a department.
#[utoipa::path(post, path = "/departments", tag = "departments", request_body = DepartmentIn,
    responses((status = 201, description = "Created", body = DepartmentOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with existing data", body = Problem, content_type = "application/problem+json")))]
async fn create_department(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageDepartments>,
    Json(body): Json<DepartmentIn>,
) -> ApiResult<(StatusCode, axum::Json<DepartmentOut>)> {
    let d = state
        .store
        .create_department(&actor, body.validate()?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(DepartmentOut::from(&d))))
}

/// One department.
#[utoipa::path(get, path = "/departments/{id}", tag = "departments", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = DepartmentOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_department(
    State(state): State<AppState>,
    _: Need<perm::ReadDepartments>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DepartmentOut>> {
    let d = state.store.department(DepartmentId(parse_id(&id)?)).await?;
    Ok(axum::Json(DepartmentOut::from(&d)))
}

/// Replaces a department's name, description and security profile. A stricter profile
/// applies to existing sessions at once.
#[utoipa::path(put, path = "/departments/{id}", tag = "departments", params(("id" = Uuid, Path)), request_body = DepartmentIn,
    responses((status = 200, description = "OK", body = DepartmentOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with existing data", body = Problem, content_type = "application/problem+json")))]
async fn put_department(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageDepartments>,
    Path(id): Path<String>,
    Json(body): Json<DepartmentIn>,
) -> ApiResult<axum::Json<DepartmentOut>> {
    let id = DepartmentId(parse_id(&id)?);
    let d = state
        .store
        .update_department(&actor, id, body.validate()?)
        .await?;
    Ok(axum::Json(DepartmentOut::from(&d)))
}

/// Deletes a department that has no members (409 otherwise).
#[utoipa::path(delete, path = "/departments/{id}", tag = "departments", params(("id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with existing data", body = Problem, content_type = "application/problem+json")))]
async fn delete_department(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageDepartments>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_department(&actor, DepartmentId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
