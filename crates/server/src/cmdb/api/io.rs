//! Bulk import and export of CIs and relationships: CSV or JSON, idempotent by external
//! key, with a row-level error report (good rows land, bad rows are listed by line).

use crate::http::auth::Need;

use crate::cmdb::io::{ImportReport, MAX_IMPORT, export_data, import_bytes};
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Query;
use crate::http::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .layer(DefaultBodyLimit::max(MAX_IMPORT))
        .merge(OpenApiRouter::new().routes(routes!(export)))
}

/// Imports CIs and relationships: JSON `{"cis": [...], "relationships": [...]}` or CSV (a
/// CI file with external_key, ci_type, name[, status, department, attributes] columns, or
/// a relationship file with source_key, rel_type, target_key). Idempotent by external key;
/// bad rows are reported by line and the good ones still land.
#[utoipa::path(post, path = "/cmdb/import", tag = "cmdb",
    request_body(content = String, description = "CSV (text/csv) or JSON (application/json)", content_type = "text/csv"),
    responses((status = 200, description = "Imported (see errors for rejected rows)", body = ImportReport), (status = 400, description = "Unreadable file", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Larger than 64 MiB", body = Problem, content_type = "application/problem+json")))]
async fn import(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageCmdb>,
    headers: HeaderMap,
    crate::http::extract::RawBody(body): crate::http::extract::RawBody,
) -> ApiResult<axum::Json<ImportReport>> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_json = ct.starts_with("application/json");
    if !is_json && !ct.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(axum::Json(
        import_bytes(state.store.as_ref(), &actor, &body, is_json).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// cis or relationships
    #[param(value_type = crate::http::doc::ExportKind)]
    pub kind: String,
    /// csv (default) or json
    #[param(value_type = Option<crate::http::doc::TableFormat>)]
    pub format: Option<String>,
}

/// Exports CIs or relationships as CSV or JSON, in the format `/cmdb/import` reads.
#[utoipa::path(get, path = "/cmdb/export", tag = "cmdb", params(ExportParams),
    responses((status = 200, description = "CSV or JSON", content_type = "text/csv"), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn export(
    State(state): State<AppState>,
    _: Need<perm::ReadCmdb>,
    Query(q): Query<ExportParams>,
) -> ApiResult<Response> {
    let json = match q.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "json" => true,
        _ => return Err(ApiError::validation("format", "must be csv or json")),
    };
    let body = export_data(state.store.as_ref(), &q.kind, json).await?;
    let (ct, ext) = if json {
        ("application/json", "json")
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"custos-{}.{ext}\"", q.kind),
            ),
        ],
        body,
    )
        .into_response())
}
