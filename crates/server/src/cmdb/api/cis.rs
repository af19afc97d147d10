//! `/cis`, `/ci-types`: configuration items, their classification and impact analysis.

use crate::cmdb::classification::{ClassificationOut, EffectiveOut, ExplicitDto, provenance};
use crate::cmdb::impact::{ImpactOut, impact_depth, run_impact};
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
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::cmdb::{CiInput, Direction, Lifecycle};
use custos_core::store::{CiFilter, CiRecord};
use custos_core::{CiId, DepartmentId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cis, create_ci))
        .routes(routes!(get_ci, put_ci, delete_ci))
        .routes(routes!(get_classification, put_classification))
        .routes(routes!(get_impact))
        .routes(routes!(list_ci_types, create_ci_type))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CiOut {
    pub id: Uuid,
    pub ci_type: String,
    pub name: String,
    pub external_key: Option<String>,
    pub owner_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// planned, active or retired
    pub status: &'static str,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Levels set on this CI (by a customer representative or service owner).
    pub explicit_classification: ExplicitDto,
    pub classification_justification: String,
    /// Levels in effect: the maximum of its own and everything that relies on it.
    pub effective_classification: EffectiveOut,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&CiRecord> for CiOut {
    fn from(r: &CiRecord) -> Self {
        let c = &r.ci;
        Self {
            id: c.id.0,
            ci_type: c.ci_type.clone(),
            name: c.name.clone(),
            external_key: c.external_key.clone(),
            owner_id: c.owner_id.map(|u| u.0),
            department_id: c.department_id.map(|d| d.0),
            status: c.status.as_str(),
            attributes: c.attributes.clone(),
            explicit_classification: ExplicitDto::from_classification(&c.explicit),
            classification_justification: c.justification.clone(),
            effective_classification: EffectiveOut {
                confidentiality: (&r.effective[0]).into(),
                integrity: (&r.effective[1]).into(),
                availability: (&r.effective[2]).into(),
            },
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CiList {
    pub items: Vec<CiOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiIn {
    /// A CI type name (see /ci-types).
    pub ci_type: String,
    pub name: String,
    /// Unique key from the source system, used by imports.
    #[serde(default)]
    pub external_key: Option<String>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    /// planned, active (default) or retired
    #[serde(default)]
    pub status: Option<String>,
    /// Free-form JSON object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

impl CiIn {
    pub fn validate(&self) -> Result<CiInput, ApiError> {
        let status = match self.status.as_deref() {
            None | Some("") => Lifecycle::Active,
            Some(s) => Lifecycle::parse(s)?,
        };
        let attrs = self
            .attributes
            .clone()
            .unwrap_or_else(|| serde_json::json!({}));
        let mut input = CiInput::new(
            &self.ci_type,
            &self.name,
            self.external_key.as_deref(),
            status,
            attrs,
        )?;
        input.owner_id = self.owner_id.map(UserId);
        input.department_id = self.department_id.map(DepartmentId);
        Ok(input)
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CiParams {
    /// Only CIs of this type.
    pub ci_type: Option<String>,
    /// planned, active or retired
    #[param(value_type = Option<crate::http::doc::CiLifecycle>)]
    pub status: Option<String>,
    /// Full-text search over names and attribute values (prefix match, all words).
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl CiParams {
    pub fn filter(&self) -> Result<CiFilter, ApiError> {
        Ok(CiFilter {
            ci_type: self
                .ci_type
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            status: self
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(Lifecycle::parse)
                .transpose()?,
            q: self
                .q
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string),
        })
    }
}

fn conflict(e: custos_core::StoreError) -> ApiError {
    match e {
        custos_core::StoreError::Conflict { constraint } if constraint == "cis_reference_fkey" => {
            ApiError::Conflict("unknown CI type, owner or department".into())
        }
        custos_core::StoreError::Conflict { constraint }
            if constraint == "cis_external_key_key" =>
        {
            ApiError::Conflict("a CI with this external key already exists".into())
        }
        other => other.into(),
    }
}

/// Lists CIs, filtered by type, status and full-text search.
#[utoipa::path(get, path = "/cis", tag = "cmdb", params(CiParams),
    responses((status = 200, description = "OK", body = CiList), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_cis(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Query(q): Query<CiParams>,
) -> ApiResult<axum::Json<CiList>> {
    let page = state
        .store
        .list_cis(
            &q.filter()?,
            custos_core::page::PageRequest::new(q.limit, q.cursor),
        )
        .await?;
    Ok(axum::Json(CiList {
        items: page.items.iter().map(CiOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a CI.
#[utoipa::path(post, path = "/cis", tag = "cmdb", request_body = CiIn,
    responses((status = 201, description = "Created", body = CiOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Duplicate external key, or unknown type, owner or department", body = Problem, content_type = "application/problem+json")))]
async fn create_ci(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    Json(body): Json<CiIn>,
) -> ApiResult<(StatusCode, axum::Json<CiOut>)> {
    let r = state
        .store
        .create_ci(&actor, body.validate()?)
        .await
        .map_err(conflict)?;
    Ok((StatusCode::CREATED, axum::Json(CiOut::from(&r))))
}

/// One CI with its explicit and effective classification.
#[utoipa::path(get, path = "/cis/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = CiOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_ci(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CiOut>> {
    Ok(axum::Json(CiOut::from(
        &state.store.ci(CiId(parse_id(&id)?)).await?,
    )))
}

/// Replaces a CI's fields (classification has its own endpoint).
#[utoipa::path(put, path = "/cis/{id}", tag = "cmdb", params(("id" = Uuid, Path)), request_body = CiIn,
    responses((status = 200, description = "OK", body = CiOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Conflict", body = Problem, content_type = "application/problem+json")))]
async fn put_ci(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    Path(id): Path<String>,
    Json(body): Json<CiIn>,
) -> ApiResult<axum::Json<CiOut>> {
    let id = CiId(parse_id(&id)?);
    let r = state
        .store
        .update_ci(&actor, id, body.validate()?)
        .await
        .map_err(conflict)?;
    Ok(axum::Json(CiOut::from(&r)))
}

/// Deletes a CI and its relationships; what relied on it is re-classified.
#[utoipa::path(delete, path = "/cis/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn delete_ci(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_ci(&actor, CiId(parse_id(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The CI's classification with provenance per dimension.
#[utoipa::path(get, path = "/cis/{id}/classification", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = ClassificationOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_classification(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ClassificationOut>> {
    let r = state.store.ci(CiId(parse_id(&id)?)).await?;
    Ok(axum::Json(provenance(state.store.as_ref(), &r).await?))
}

/// An explicit classification and why it was chosen.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyIn {
    /// low, moderate, high or null (not set on this CI)
    #[serde(default)]
    pub confidentiality: Option<String>,
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default)]
    pub availability: Option<String>,
    /// Why these levels (required).
    pub justification: String,
}

/// Sets the explicit classification (customer representatives and service owners). The
/// change spreads to everything the CI relies on.
#[utoipa::path(put, path = "/cis/{id}/classification", tag = "cmdb", params(("id" = Uuid, Path)), request_body = ClassifyIn,
    responses((status = 200, description = "OK", body = ClassificationOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn put_classification(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ClassifyCis>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<ClassificationOut>> {
    let body: ClassifyIn = crate::http::extract::parse_json(&body)?;
    let id = CiId(parse_id(&id)?);
    let levels = ExplicitDto {
        confidentiality: body.confidentiality,
        integrity: body.integrity,
        availability: body.availability,
    }
    .parse()?;
    let justification = custos_core::account::clean_text(&body.justification, 2000);
    if justification.is_empty() && !levels.is_empty() {
        return Err(ApiError::validation(
            "justification",
            "is required when setting a classification",
        ));
    }
    let r = state
        .store
        .set_classification(&actor, id, levels, &justification)
        .await?;
    Ok(axum::Json(provenance(state.store.as_ref(), &r).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImpactParams {
    /// upstream: what breaks if this CI fails; downstream: what it relies on.
    #[param(value_type = crate::http::doc::ImpactDirection)]
    pub direction: String,
    /// Maximum number of steps, 1–50 (default 10).
    pub depth: Option<u32>,
}

/// Impact analysis: every affected CI with its distance and one shortest path.
#[utoipa::path(get, path = "/cis/{id}/impact", tag = "cmdb", params(("id" = Uuid, Path), ImpactParams),
    responses((status = 200, description = "OK", body = ImpactOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_impact(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
    Query(q): Query<ImpactParams>,
) -> ApiResult<axum::Json<ImpactOut>> {
    let direction = Direction::parse(&q.direction)?;
    let depth = impact_depth(q.depth)?;
    let origin = state.store.ci(CiId(parse_id(&id)?)).await?;
    Ok(axum::Json(
        run_impact(state.store.as_ref(), &origin, direction, depth).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CiTypeOut {
    pub name: String,
    pub label: String,
    pub builtin: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiTypeIn {
    /// lower_case_name
    pub name: String,
    pub label: String,
}

/// The CI types (built-in and added).
#[utoipa::path(get, path = "/ci-types", tag = "cmdb",
    responses((status = 200, description = "OK", body = Vec<CiTypeOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_ci_types(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
) -> ApiResult<axum::Json<Vec<CiTypeOut>>> {
    let types = state.store.list_ci_types().await?;
    Ok(axum::Json(
        types
            .into_iter()
            .map(|t| CiTypeOut {
                name: t.name,
                label: t.label,
                builtin: t.builtin,
            })
            .collect(),
    ))
}

/// Adds a CI type (administrators).
#[utoipa::path(post, path = "/ci-types", tag = "cmdb", request_body = CiTypeIn,
    responses((status = 201, description = "Created", body = CiTypeOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The type exists", body = Problem, content_type = "application/problem+json")))]
async fn create_ci_type(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCiTypes>,
    Json(body): Json<CiTypeIn>,
) -> ApiResult<(StatusCode, axum::Json<CiTypeOut>)> {
    let t = state
        .store
        .create_ci_type(&actor, &body.name, &body.label)
        .await
        .map_err(|e| match e {
            custos_core::StoreError::Conflict { .. } => {
                ApiError::Conflict("a CI type with this name exists".into())
            }
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CiTypeOut {
            name: t.name,
            label: t.label,
            builtin: t.builtin,
        }),
    ))
}
