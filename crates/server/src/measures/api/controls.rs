//! `/catalogs`, `/baselines`, `/controls`: the control catalogue.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::measures::controls::{ControlParams, ImportOut, MAX_DOCUMENT, import};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use custos_core::controls::control_spec;
use custos_core::controls::{Control, Function};
use custos_core::{CatalogId, ControlId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_catalogs, import_document))
        .layer(DefaultBodyLimit::max(MAX_DOCUMENT))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_baselines))
                .routes(routes!(list_controls, create_control))
                .routes(routes!(get_control, patch_control)),
        )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogOut {
    pub id: Uuid,
    pub oscal_uuid: Option<String>,
    pub title: String,
    pub version: String,
    /// oscal or manual
    pub source: String,
    pub controls: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BaselineOut {
    pub id: Uuid,
    pub name: String,
    pub catalog_id: Uuid,
    pub controls: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ControlOut {
    pub id: Uuid,
    pub catalog_id: Uuid,
    /// The catalog's id, e.g. ac-2.1
    pub control_id: String,
    /// e.g. AC-2(1)
    pub label: String,
    pub title: String,
    pub family: String,
    /// The control this one enhances.
    pub parent_control_id: Option<String>,
    pub statement: String,
    pub guidance: String,
    /// preventive, detective or corrective
    pub function: &'static str,
    /// catalog, default (family default) or manual
    pub function_source: &'static str,
}

impl From<&Control> for ControlOut {
    fn from(c: &Control) -> Self {
        Self {
            id: c.id.0,
            catalog_id: c.catalog_id.0,
            control_id: c.spec.control_id.clone(),
            label: c.spec.label.clone(),
            title: c.spec.title.clone(),
            family: c.spec.family.clone(),
            parent_control_id: c.spec.parent.clone(),
            statement: c.spec.statement.clone(),
            guidance: c.spec.guidance.clone(),
            function: c.spec.function.as_str(),
            function_source: c.function_source,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ControlList {
    pub items: Vec<ControlOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// For a profile: the catalog to apply it to (default: the catalog holding most of its controls).
    pub catalog_id: Option<Uuid>,
}

/// The catalogs and how many controls each holds.
#[utoipa::path(get, path = "/catalogs", tag = "controls",
    responses((status = 200, description = "OK", body = Vec<CatalogOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_catalogs(
    State(state): State<AppState>,
    _: Need<perm::ReadControls>,
) -> ApiResult<axum::Json<Vec<CatalogOut>>> {
    let cats = state.store.list_catalogs().await?;
    Ok(axum::Json(
        cats.into_iter()
            .map(|c| CatalogOut {
                id: c.id.0,
                oscal_uuid: c.oscal_uuid,
                title: c.title,
                version: c.version,
                source: c.source,
                controls: c.controls,
            })
            .collect(),
    ))
}

/// Imports an OSCAL catalog or profile (JSON). A catalog adds or updates controls; a
/// profile applied to a catalog becomes a baseline. Importing the same document twice
/// changes nothing.
#[utoipa::path(post, path = "/catalogs", tag = "controls", params(ImportParams),
    request_body(content = Object, description = "An OSCAL catalog or profile document", content_type = "application/json"),
    responses((status = 200, description = "Imported", body = ImportOut), (status = 400, description = "Not a valid OSCAL catalog or profile", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than 32 MiB", body = Problem, content_type = "application/problem+json")))]
async fn import_document(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageControls>,
    Query(q): Query<ImportParams>,
    Json(doc): Json<serde_json::Value>,
) -> ApiResult<axum::Json<ImportOut>> {
    Ok(axum::Json(
        import(
            state.store.as_ref(),
            &actor,
            &doc,
            q.catalog_id.map(CatalogId),
        )
        .await?,
    ))
}

/// The baselines (profiles applied to catalogs).
#[utoipa::path(get, path = "/baselines", tag = "controls",
    responses((status = 200, description = "OK", body = Vec<BaselineOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_baselines(
    State(state): State<AppState>,
    _: Need<perm::ReadControls>,
) -> ApiResult<axum::Json<Vec<BaselineOut>>> {
    let bs = state.store.list_baselines().await?;
    Ok(axum::Json(
        bs.into_iter()
            .map(|b| BaselineOut {
                id: b.id.0,
                name: b.name,
                catalog_id: b.catalog_id.0,
                controls: b.controls,
            })
            .collect(),
    ))
}

/// Lists controls, filtered by catalog, baseline, family and words.
#[utoipa::path(get, path = "/controls", tag = "controls", params(ControlParams),
    responses((status = 200, description = "OK", body = ControlList), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_controls(
    State(state): State<AppState>,
    _: Need<perm::ReadControls>,
    Query(q): Query<ControlParams>,
) -> ApiResult<axum::Json<ControlList>> {
    if q.family
        .as_deref()
        .is_some_and(|f| f.len() > 50 || f.chars().any(char::is_control))
    {
        return Err(ApiError::validation(
            "family",
            "must be at most 50 printable characters",
        ));
    }
    let page = state
        .store
        .list_controls(
            &q.filter(),
            custos_core::page::PageRequest::new(q.limit, q.cursor),
        )
        .await?;
    Ok(axum::Json(ControlList {
        items: page.items.iter().map(ControlOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One control.
#[utoipa::path(get, path = "/controls/{id}", tag = "controls", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = ControlOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_control(
    State(state): State<AppState>,
    _: Need<perm::ReadControls>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ControlOut>> {
    Ok(axum::Json(ControlOut::from(
        &state.store.control(ControlId(parse_id(&id)?)).await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlIn {
    /// A short unique id, e.g. org-media-1
    pub control_id: String,
    pub title: String,
    /// The requirement.
    pub statement: String,
    #[serde(default)]
    pub guidance: String,
    /// preventive, detective or corrective
    pub function: String,
    /// Defaults to org.
    #[serde(default)]
    pub family: Option<String>,
}

/// Writes an organisation control (a procedure of your own) into the organisation's catalog.
#[utoipa::path(post, path = "/controls", tag = "controls", request_body = ControlIn,
    responses((status = 201, description = "Created", body = ControlOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The id is taken", body = Problem, content_type = "application/problem+json")))]
async fn create_control(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageControls>,
    Json(b): Json<ControlIn>,
) -> ApiResult<(StatusCode, axum::Json<ControlOut>)> {
    let spec = control_spec(
        &b.control_id,
        &b.title,
        &b.statement,
        &b.guidance,
        &b.function,
        b.family.as_deref(),
    )?;
    let c = state
        .store
        .create_control(&actor, spec)
        .await
        .map_err(|e| match e {
            custos_core::StoreError::Conflict { .. } => ApiError::Conflict(
                "a control with this id exists in the organisation catalog".into(),
            ),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(ControlOut::from(&c))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPatch {
    /// preventive, detective or corrective
    pub function: String,
}

/// Sets a control's function (kept across re-imports).
#[utoipa::path(patch, path = "/controls/{id}", tag = "controls", params(("id" = Uuid, Path)), request_body = ControlPatch,
    responses((status = 200, description = "OK", body = ControlOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn patch_control(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageControls>,
    Path(id): Path<String>,
    Json(b): Json<ControlPatch>,
) -> ApiResult<axum::Json<ControlOut>> {
    let f = Function::parse(&b.function)?;
    let c = state
        .store
        .set_control_function(&actor, ControlId(parse_id(&id)?), f)
        .await?;
    Ok(axum::Json(ControlOut::from(&c)))
}
