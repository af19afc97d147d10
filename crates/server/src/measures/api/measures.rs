//! Required measures and gaps: `/classification-baselines`, `/cis/{id}/measures`,
//! `/cis/{id}/controls`, `/cis/{id}/implementations/{control}`, `/gaps`.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::parse_rfc3339;
use crate::http::util::rfc3339;
use crate::measures::gaps::{
    GapReport, MeasuresOut, gap_csv, gap_report, level_baselines, measures,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use custos_core::classification::Level;
use custos_core::measures::{ImplStatus, Implementation, check_implementation};
use custos_core::{BaselineId, CiId, ControlId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_level_baselines, put_level_baselines))
        .routes(routes!(get_measures))
        .routes(routes!(add_control))
        .routes(routes!(remove_control))
        .routes(routes!(put_implementation))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_evidence, add_evidence))
                .layer(axum::extract::DefaultBodyLimit::max(
                    custos_core::measures::MAX_EVIDENCE_BYTES,
                )),
        )
        .routes(routes!(download_evidence))
        .routes(routes!(get_gaps))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelBaselines {
    /// Baseline for CIs whose highest level is low (null: the default by name).
    pub low: Option<Uuid>,
    pub moderate: Option<Uuid>,
    pub high: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LevelBaselineOut {
    pub level: &'static str,
    pub baseline_id: Option<Uuid>,
    pub baseline_name: Option<String>,
    /// False when chosen by name because no mapping is set.
    pub explicit: bool,
}

/// Which baseline each classification level requires.
#[utoipa::path(get, path = "/classification-baselines", tag = "measures",
    responses((status = 200, description = "OK", body = Vec<LevelBaselineOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn get_level_baselines(
    State(state): State<AppState>,
    _: Need<perm::ReadControls>,
) -> ApiResult<axum::Json<Vec<LevelBaselineOut>>> {
    let map = level_baselines(state.store.as_ref()).await?;
    let names: HashMap<BaselineId, String> = state
        .store
        .list_baselines()
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    Ok(axum::Json(
        ["low", "moderate", "high"]
            .into_iter()
            .zip(map)
            .map(|(level, (b, explicit))| LevelBaselineOut {
                level,
                baseline_id: b.map(|b| b.0),
                baseline_name: b.and_then(|b| names.get(&b).cloned()),
                explicit,
            })
            .collect(),
    ))
}

/// Maps levels to baselines (administrators). Null returns a level to the default by name.
#[utoipa::path(put, path = "/classification-baselines", tag = "measures", request_body = LevelBaselines,
    responses((status = 204, description = "Saved"), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such baseline", body = Problem, content_type = "application/problem+json")))]
async fn put_level_baselines(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ConfigureRequirements>,
    Json(b): Json<LevelBaselines>,
) -> ApiResult<StatusCode> {
    for (level, id) in [
        (Level::Low, b.low),
        (Level::Moderate, b.moderate),
        (Level::High, b.high),
    ] {
        state
            .store
            .set_level_baseline(&actor, level, id.map(BaselineId))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A CI's required controls, why each is required, and how it is implemented.
#[utoipa::path(get, path = "/cis/{id}/measures", tag = "measures", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = MeasuresOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_measures(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MeasuresOut>> {
    let r = state.store.ci(CiId(parse_id(&id)?)).await?;
    Ok(axum::Json(measures(state.store.as_ref(), &r).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddControlIn {
    pub control_id: Uuid,
    /// Why (e.g. the SLA clause or risk).
    pub reason: String,
}

/// Requires an additional control of this CI and of everything that inherits from it.
#[utoipa::path(post, path = "/cis/{id}/controls", tag = "measures", params(("id" = Uuid, Path)), request_body = AddControlIn,
    responses((status = 204, description = "Added"), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such CI or control", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already required", body = Problem, content_type = "application/problem+json")))]
async fn add_control(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageRequirements>,
    Path(id): Path<String>,
    Json(b): Json<AddControlIn>,
) -> ApiResult<StatusCode> {
    let reason = custos_core::account::clean_text(&b.reason, 1000);
    if reason.is_empty() {
        return Err(ApiError::validation("reason", "must not be empty"));
    }
    state
        .store
        .add_ci_control(
            &actor,
            CiId(parse_id(&id)?),
            ControlId(b.control_id),
            &reason,
        )
        .await
        .map_err(|e| match e {
            custos_core::StoreError::Conflict { .. } => {
                ApiError::Conflict("this control is already required of this CI".into())
            }
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an explicitly added control.
#[utoipa::path(delete, path = "/cis/{id}/controls/{control_id}", tag = "measures", params(("id" = Uuid, Path), ("control_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn remove_control(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageRequirements>,
    Path((id, control)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .remove_ci_control(&actor, CiId(parse_id(&id)?), ControlId(parse_id(&control)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImplementationIn {
    /// not_started, planned, implemented, verified, failed or not_applicable
    pub status: String,
    /// Required for not_applicable.
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    /// RFC 3339
    #[serde(default)]
    pub last_verified_at: Option<String>,
    /// RFC 3339; past dates count as overdue reviews.
    #[serde(default)]
    pub next_review_at: Option<String>,
    /// On a business service: the CIs it relies on inherit this implementation.
    #[serde(default)]
    pub inheritable: bool,
}

impl ImplementationIn {
    pub fn validate(&self, ci: CiId, control: ControlId) -> Result<Implementation, ApiError> {
        let status = ImplStatus::parse(&self.status)?;
        let justification = custos_core::account::clean_text(&self.justification, 2000);
        check_implementation(status, &justification, &self.links)?;
        let time = |field: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    parse_rfc3339(s)
                        .ok_or_else(|| ApiError::validation(field, "must be an RFC 3339 time"))
                })
                .transpose()
        };
        Ok(Implementation {
            ci_id: ci,
            control_id: control,
            status,
            justification,
            evidence: custos_core::account::clean_text(&self.evidence, 10_000),
            links: self.links.clone(),
            owner_id: self.owner_id.map(UserId),
            last_verified_at: time("last_verified_at", &self.last_verified_at)?,
            next_review_at: time("next_review_at", &self.next_review_at)?,
            inheritable: self.inheritable,
            updated_at: Timestamp::now(),
        })
    }
}

/// Records how a CI implements a control.
#[utoipa::path(put, path = "/cis/{id}/implementations/{control_id}", tag = "measures", params(("id" = Uuid, Path), ("control_id" = Uuid, Path)), request_body = ImplementationIn,
    responses((status = 200, description = "Saved", body = MeasuresOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such CI, control or owner", body = Problem, content_type = "application/problem+json")))]
async fn put_implementation(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageImplementations>,
    Path((id, control)): Path<(String, String)>,
    Json(b): Json<ImplementationIn>,
) -> ApiResult<axum::Json<MeasuresOut>> {
    let ci = CiId(parse_id(&id)?);
    let imp = b.validate(ci, ControlId(parse_id(&control)?))?;
    state.store.put_implementation(&actor, imp).await?;
    let r = state.store.ci(ci).await?;
    Ok(axum::Json(measures(state.store.as_ref(), &r).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GapParams {
    /// ci (one CI), service (a CI and everything it relies on) or overall (default)
    #[param(value_type = Option<crate::http::doc::GapScope>)]
    pub scope: Option<String>,
    /// The CI for scope ci or service.
    pub ci: Option<Uuid>,
    /// json (default) or csv
    #[param(value_type = Option<crate::http::doc::TableFormat>)]
    pub format: Option<String>,
}

/// Gap report: required, implemented/verified, failed, missing, overdue reviews and
/// coverage, per CI, per service (with everything it relies on) or overall; JSON or CSV.
#[utoipa::path(get, path = "/gaps", tag = "measures", params(GapParams),
    responses((status = 200, description = "OK (JSON, or CSV with format=csv)", body = GapReport), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such CI", body = Problem, content_type = "application/problem+json")))]
async fn get_gaps(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Query(q): Query<GapParams>,
) -> ApiResult<Response> {
    let report = gap_report(
        state.store.as_ref(),
        q.scope.as_deref().unwrap_or("overall"),
        q.ci.map(CiId),
    )
    .await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(axum::Json(report).into_response()),
        "csv" => Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"custos-gaps.csv\"",
                ),
            ],
            gap_csv(&report),
        )
            .into_response()),
        _ => Err(ApiError::validation("format", "must be json or csv")),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EvidenceOut {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content (also in the audit log).
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    /// The file's name.
    pub file_name: String,
}

/// Evidence files of an implementation.
#[utoipa::path(get, path = "/cis/{id}/implementations/{control_id}/evidence", tag = "measures", params(("id" = Uuid, Path), ("control_id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = Vec<EvidenceOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_evidence(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path((id, control)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<EvidenceOut>>> {
    let files = state
        .store
        .list_evidence(CiId(parse_id(&id)?), ControlId(parse_id(&control)?))
        .await?;
    Ok(axum::Json(files.iter().map(EvidenceOut::from).collect()))
}

/// Uploads an evidence file (the raw body, at most 10 MiB); stored with its SHA-256.
#[utoipa::path(post, path = "/cis/{id}/implementations/{control_id}/evidence", tag = "measures", params(("id" = Uuid, Path), ("control_id" = Uuid, Path), EvidenceParams),
    request_body(content = String, description = "The file", content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = EvidenceOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such CI or control", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than 10 MiB", body = Problem, content_type = "application/problem+json")))]
async fn add_evidence(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageImplementations>,
    Path((id, control)): Path<(String, String)>,
    Query(q): Query<EvidenceParams>,
    headers: axum::http::HeaderMap,
    crate::http::extract::RawBody(body): crate::http::extract::RawBody,
) -> ApiResult<(StatusCode, axum::Json<EvidenceOut>)> {
    let (ci, control) = (CiId(parse_id(&id)?), ControlId(parse_id(&control)?));
    let name = custos_core::measures::clean_file_name(&q.file_name)?;
    if body.is_empty() {
        return Err(ApiError::validation("body", "the file is empty"));
    }
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let ct: String = ct.chars().filter(|c| !c.is_control()).take(100).collect();
    let f = state
        .store
        .add_evidence(&actor, ci, control, &name, &ct, &body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(EvidenceOut::from(&f))))
}

/// Downloads an evidence file; the `x-content-sha256` header carries its recorded hash.
#[utoipa::path(get, path = "/evidence/{id}", tag = "measures", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn download_evidence(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (meta, content) = state
        .store
        .evidence(custos_core::EvidenceId(parse_id(&id)?))
        .await?;
    Ok(crate::http::util::file_response(
        &meta.file_name,
        &meta.sha256,
        content,
    ))
}

impl From<&custos_core::measures::EvidenceFile> for EvidenceOut {
    fn from(e: &custos_core::measures::EvidenceFile) -> Self {
        Self {
            id: e.id.0,
            file_name: e.file_name.clone(),
            content_type: e.content_type.clone(),
            size: e.size,
            sha256: e.sha256.clone(),
            uploaded_by: e.uploaded_by.clone(),
            uploaded_at: rfc3339(e.uploaded_at),
        }
    }
}
