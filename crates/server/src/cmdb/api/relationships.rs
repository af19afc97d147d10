//! `/relationships`: typed, directed links between CIs.

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
use custos_core::cmdb::RelType;
use custos_core::store::RelationshipView;
use custos_core::{CiId, RelationshipId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_relationships, create_relationship))
        .routes(routes!(get_relationship, delete_relationship))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RelationshipOut {
    pub id: Uuid,
    pub source_id: Uuid,
    pub source_name: String,
    pub target_id: Uuid,
    pub target_name: String,
    /// depends_on, runs_on, hosted_by, connects_to or stores_data_of
    pub rel_type: &'static str,
    pub created_at: String,
}

impl From<&RelationshipView> for RelationshipOut {
    fn from(v: &RelationshipView) -> Self {
        Self {
            id: v.rel.id.0,
            source_id: v.rel.source_id.0,
            source_name: v.source_name.clone(),
            target_id: v.rel.target_id.0,
            target_name: v.target_name.clone(),
            rel_type: v.rel.rel_type.as_str(),
            created_at: rfc3339(v.rel.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RelationshipList {
    pub items: Vec<RelationshipOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipIn {
    pub source_id: Uuid,
    pub target_id: Uuid,
    /// depends_on, runs_on, hosted_by, connects_to or stores_data_of
    pub rel_type: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelParams {
    /// Only relationships with this CI at either end.
    pub ci: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

/// Lists relationships, optionally those of one CI.
#[utoipa::path(get, path = "/relationships", tag = "cmdb", params(RelParams),
    responses((status = 200, description = "OK", body = RelationshipList), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_relationships(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Query(q): Query<RelParams>,
) -> ApiResult<axum::Json<RelationshipList>> {
    let page = state
        .store
        .list_relationships(
            q.ci.map(CiId),
            custos_core::page::PageRequest::new(q.limit, q.cursor),
        )
        .await?;
    Ok(axum::Json(RelationshipList {
        items: page.items.iter().map(RelationshipOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a relationship; classification re-propagates at once.
#[utoipa::path(post, path = "/relationships", tag = "cmdb", request_body = RelationshipIn,
    responses((status = 201, description = "Created", body = RelationshipOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "A CI does not exist", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The relationship exists", body = Problem, content_type = "application/problem+json")))]
async fn create_relationship(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    Json(body): Json<RelationshipIn>,
) -> ApiResult<(StatusCode, axum::Json<RelationshipOut>)> {
    let rel_type = RelType::parse(&body.rel_type)?;
    let rel = state
        .store
        .add_relationship(&actor, CiId(body.source_id), CiId(body.target_id), rel_type)
        .await
        .map_err(|e| match e {
            custos_core::StoreError::Conflict { .. } => {
                ApiError::Conflict("this relationship exists already".into())
            }
            other => other.into(),
        })?;
    let view = state.store.relationship(rel.id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RelationshipOut::from(&view)),
    ))
}

/// One relationship.
#[utoipa::path(get, path = "/relationships/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = RelationshipOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_relationship(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RelationshipOut>> {
    Ok(axum::Json(RelationshipOut::from(
        &state
            .store
            .relationship(RelationshipId(parse_id(&id)?))
            .await?,
    )))
}

/// Deletes a relationship; classification re-propagates (a removed dependency can lower levels).
#[utoipa::path(delete, path = "/relationships/{id}", tag = "cmdb", params(("id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn delete_relationship(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_relationship(&actor, RelationshipId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
