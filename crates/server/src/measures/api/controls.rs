//! `/catalogs`, `/baselines`, `/controls`: the control catalogue.

use crate::accounts::api::users::parse_id;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use custos_core::authz::Actor;
use custos_core::controls::{Control, ControlFilter, ControlSpec, Function};
use custos_core::oscal::Document;
use custos_core::store::Store;
use custos_core::{BaselineId, CatalogId, ControlId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// Largest OSCAL document accepted (the full NIST catalog is about 10 MiB).
pub const MAX_DOCUMENT: usize = 32 * 1024 * 1024;

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

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportOut {
    /// catalog or profile
    pub kind: &'static str,
    pub title: String,
    /// For a catalog: its id; for a profile: the catalog it was applied to.
    pub catalog_id: Uuid,
    /// For a profile: the baseline.
    pub baseline_id: Option<Uuid>,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// For a profile: controls in the baseline, and ids the catalog lacks.
    pub baseline_controls: Option<usize>,
    pub missing: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// For a profile: the catalog to apply it to (default: the catalog holding most of its controls).
    pub catalog_id: Option<Uuid>,
}

/// Imports an OSCAL document (parsed JSON). Shared by the API, the import page and the CLI.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    doc: &serde_json::Value,
    catalog: Option<CatalogId>,
) -> Result<ImportOut, ApiError> {
    match custos_core::oscal::parse(doc)? {
        Document::Catalog(c) => {
            if c.controls.is_empty() {
                return Err(ApiError::validation(
                    "document",
                    "the catalog contains no controls",
                ));
            }
            let r = store.import_catalog(actor, c).await?;
            Ok(ImportOut {
                kind: "catalog",
                title: r.title,
                catalog_id: r.catalog_id.0,
                baseline_id: None,
                inserted: r.inserted,
                updated: r.updated,
                unchanged: r.unchanged,
                baseline_controls: None,
                missing: vec![],
            })
        }
        Document::Profile(p) => {
            let catalog = match catalog {
                Some(c) => c,
                None => best_catalog(store, &p).await?,
            };
            let b = store
                .import_profile(actor, p, catalog)
                .await
                .map_err(|e| match e {
                    custos_core::StoreError::NotFound { .. } => ApiError::validation(
                        "catalog_id",
                        "no such catalog (or it has no controls)",
                    ),
                    other => other.into(),
                })?;
            Ok(ImportOut {
                kind: "profile",
                title: b.name,
                catalog_id: catalog.0,
                baseline_id: Some(b.baseline_id.0),
                inserted: 0,
                updated: usize::from(b.changed),
                unchanged: usize::from(!b.changed),
                baseline_controls: Some(b.controls),
                missing: b.missing,
            })
        }
    }
}

/// The catalog that holds the most of the profile's controls.
async fn best_catalog(
    store: &dyn Store,
    p: &custos_core::oscal::Profile,
) -> Result<CatalogId, ApiError> {
    let wanted: std::collections::HashSet<&str> =
        p.include.iter().flatten().map(String::as_str).collect();
    let mut best: Option<(usize, CatalogId)> = None;
    for c in store.list_catalogs().await? {
        let filter = ControlFilter {
            catalog: Some(c.id),
            ..Default::default()
        };
        let mut hits = 0;
        let mut page = custos_core::page::PageRequest::first(500);
        loop {
            let controls = store.list_controls(&filter, page).await?;
            hits += controls
                .items
                .iter()
                .filter(|k| wanted.is_empty() || wanted.contains(k.spec.control_id.as_str()))
                .count();
            match controls.next_cursor {
                Some(cur) => page = custos_core::page::PageRequest::new(Some(500), Some(cur)),
                None => break,
            }
        }
        if hits > 0 && best.is_none_or(|(h, _)| hits > h) {
            best = Some((hits, c.id));
        }
    }
    best.map(|(_, id)| id).ok_or_else(|| {
        ApiError::validation(
            "catalog_id",
            "import a catalog holding the profile's controls first",
        )
    })
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ControlParams {
    pub catalog_id: Option<Uuid>,
    /// Only controls in this baseline.
    pub baseline_id: Option<Uuid>,
    /// e.g. ac
    pub family: Option<String>,
    /// Words that must all appear in the id, label or title.
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

impl ControlParams {
    pub fn filter(&self) -> ControlFilter {
        ControlFilter {
            catalog: self.catalog_id.map(CatalogId),
            baseline: self.baseline_id.map(BaselineId),
            family: self
                .family
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
        }
    }
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

/// Validates a hand-written control (API, page).
pub fn control_spec(
    id: &str,
    title: &str,
    statement: &str,
    guidance: &str,
    function: &str,
    family: Option<&str>,
) -> Result<ControlSpec, ApiError> {
    let id = custos_core::cmdb::check_type_name(&id.trim().to_lowercase().replace('-', "_"))
        .map(|_| id.trim().to_lowercase())
        .map_err(|_| {
            ApiError::validation(
                "control_id",
                "must be 2–50 letters, digits, - or _, starting with a letter",
            )
        })?;
    let statement = custos_core::account::clean_text(statement, 10_000);
    if statement.is_empty() {
        return Err(ApiError::validation("statement", "must not be empty"));
    }
    Ok(ControlSpec {
        label: id.to_uppercase(),
        control_id: id,
        title: custos_core::account::check_name("title", title, 300)?,
        family: family
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_lowercase)
            .unwrap_or_else(|| "org".into()),
        parent: None,
        statement,
        guidance: custos_core::account::clean_text(guidance, 10_000),
        function: Function::parse(function)?,
        function_from_catalog: false,
    })
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
