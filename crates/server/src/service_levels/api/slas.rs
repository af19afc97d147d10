//! `/slas`: service level agreements with their security section — drafts, versions,
//! two-sided agreement, the requirements check against the service baseline — and their
//! reports (`/slas/{id}/reports/{period}` in JSON, HTML, CSV or PDF; kept ones are frozen).
//! A customer representative sees only the SLAs and reports of customers it represents.

use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::doc;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use crate::service_levels::download::{KeptOut, ReportOut, render};
use crate::service_levels::visible_sla;
use crate::service_levels::{may_agree, report_for, visible_customers};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_core::sla::{RequirementCheck, Side, Sla, SlaStatus, SlaTerms};
use custos_core::sla_report::Period;
use custos_core::store::SlaFilter;
use custos_core::time::Date;
use custos_core::{CiId, SlaId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_slas, create_sla))
        .routes(routes!(get_sla, put_sla, delete_sla))
        .routes(routes!(list_versions, new_version))
        .routes(routes!(agree))
        .routes(routes!(check))
        .routes(routes!(list_reports))
        .routes(routes!(get_report, keep))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgreementOut {
    pub user_id: Uuid,
    pub at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SlaOut {
    pub id: Uuid,
    /// Shared by every version of this SLA.
    pub series_id: Uuid,
    pub version: i32,
    /// draft, agreed, superseded or expired (as of today).
    pub status: SlaStatus,
    #[serde(flatten)]
    pub terms: SlaTerms,
    pub customer_agreement: Option<AgreementOut>,
    pub owner_agreement: Option<AgreementOut>,
    pub created_at: String,
    pub updated_at: String,
}

impl SlaOut {
    pub fn new(s: &Sla, today: &Date) -> Self {
        let a = |x: &Option<custos_core::sla::Agreement>| {
            x.as_ref().map(|a| AgreementOut {
                user_id: a.user_id.0,
                at: rfc3339(a.at),
            })
        };
        Self {
            id: s.id.0,
            series_id: s.series_id.0,
            version: s.version,
            status: s.status_on(today),
            terms: s.terms.clone(),
            customer_agreement: a(&s.customer_agreement),
            owner_agreement: a(&s.owner_agreement),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SlaList {
    pub items: Vec<SlaOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlaParams {
    pub service: Option<Uuid>,
    /// draft, agreed, superseded or expired.
    #[param(value_type = Option<custos_core::sla::SlaStatus>)]
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

fn today() -> Date {
    Date::of(Timestamp::now())
}

/// Lists SLAs (a customer representative's list holds only its customers' SLAs).
#[utoipa::path(get, path = "/slas", tag = "service levels", params(SlaParams),
    responses((status = 200, description = "OK", body = SlaList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json")))]
async fn list_slas(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Query(q): Query<SlaParams>,
) -> ApiResult<axum::Json<SlaList>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(SlaStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status", "must be draft, agreed, superseded or expired")
        })?),
    };
    let filter = SlaFilter {
        customers: visible_customers(state.store.as_ref(), &principal).await?,
        service: q.service.map(CiId),
        status,
    };
    let page = state
        .store
        .list_slas(
            &filter,
            custos_core::page::PageRequest::new(q.limit, q.cursor),
        )
        .await?;
    let today = today();
    Ok(axum::Json(SlaList {
        items: page.items.iter().map(|s| SlaOut::new(s, &today)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Drafts an SLA.
#[utoipa::path(post, path = "/slas", tag = "service levels", request_body = SlaTerms,
    responses((status = 201, description = "Created", body = SlaOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such customer or service", body = Problem, content_type = "application/problem+json")))]
async fn create_sla(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Json(body): Json<SlaTerms>,
) -> ApiResult<(StatusCode, axum::Json<SlaOut>)> {
    let s = state.store.create_sla(&actor, body.validate()?).await?;
    Ok((StatusCode::CREATED, axum::Json(SlaOut::new(&s, &today()))))
}

/// Reads an SLA version.
#[utoipa::path(get, path = "/slas/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = SlaOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Another customer's SLA", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json")))]
async fn get_sla(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SlaOut>> {
    let s = visible_sla(state.store.as_ref(), &principal, SlaId(parse_id(&id)?)).await?;
    Ok(axum::Json(SlaOut::new(&s, &today())))
}

/// Replaces a draft's terms (and clears any agreement already recorded on it).
#[utoipa::path(put, path = "/slas/{id}", tag = "service levels", params(("id" = Uuid, Path)), request_body = SlaTerms,
    responses((status = 200, description = "OK", body = SlaOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA, customer or service", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")))]
async fn put_sla(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
    Json(body): Json<SlaTerms>,
) -> ApiResult<axum::Json<SlaOut>> {
    let id = SlaId(parse_id(&id)?);
    let s = state.store.update_sla(&actor, id, body.validate()?).await?;
    Ok(axum::Json(SlaOut::new(&s, &today())))
}

/// Deletes a draft.
#[utoipa::path(delete, path = "/slas/{id}", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")))]
async fn delete_sla(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_sla(&actor, SlaId(parse_id(&id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of the SLA's series, oldest first.
#[utoipa::path(get, path = "/slas/{id}/versions", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = Vec<SlaOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Another customer's SLA", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json")))]
async fn list_versions(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<SlaOut>>> {
    let s = visible_sla(state.store.as_ref(), &principal, SlaId(parse_id(&id)?)).await?;
    let today = today();
    let all = state.store.sla_versions(s.series_id).await?;
    Ok(axum::Json(
        all.iter().map(|v| SlaOut::new(v, &today)).collect(),
    ))
}

/// Starts a new version (a draft copying this one): the way to change an agreed SLA.
#[utoipa::path(post, path = "/slas/{id}/versions", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 201, description = "The new draft", body = SlaOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The series already has a draft", body = Problem, content_type = "application/problem+json")))]
async fn new_version(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<SlaOut>)> {
    let s = state
        .store
        .new_sla_version(&actor, SlaId(parse_id(&id)?))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(SlaOut::new(&s, &today()))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeIn {
    /// customer (a representative of the SLA's customer) or owner (the service owner).
    pub side: String,
}

/// Records the caller's agreement for one side. When both sides have agreed the SLA is
/// binding: the service CI's classification is raised to the SLA's (and spreads), the
/// requirements' controls become required, and the previous version is superseded.
#[utoipa::path(post, path = "/slas/{id}/agree", tag = "service levels", params(("id" = Uuid, Path)), request_body = AgreeIn,
    responses((status = 200, description = "Recorded", body = SlaOut), (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Not a representative of this customer / not the service owner", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not a draft, or this side agreed already", body = Problem, content_type = "application/problem+json")))]
async fn agree(
    State(state): State<AppState>,
    Need {
        actor, principal, ..
    }: Need<perm::AgreeSlas>,
    Path(id): Path<String>,
    Json(body): Json<AgreeIn>,
) -> ApiResult<axum::Json<SlaOut>> {
    let side = match body.side.as_str() {
        "customer" => Side::Customer,
        "owner" => Side::Owner,
        _ => return Err(ApiError::validation("side", "must be customer or owner")),
    };
    let sla = state.store.sla(SlaId(parse_id(&id)?)).await?;
    if !may_agree(state.store.as_ref(), &principal, &sla, side).await? {
        return Err(ApiError::Forbidden(custos_core::authz::Forbidden(
            custos_core::authz::Permission::AgreeSlas,
        )));
    }
    let today = today();
    let s = state.store.agree_sla(&actor, sla.id, side, &today).await?;
    if s.status == SlaStatus::Agreed {
        crate::incidents::refresh_sla_access(
            state.store.as_ref(),
            &actor,
            s.terms.service_id,
            &today,
        )
        .await?;
    }
    Ok(axum::Json(SlaOut::new(&s, &today)))
}

/// The requirements check: which requirements the service's baseline (its catalogue
/// baseline and the level baseline its classification needs) covers, which are additional
/// (extra controls and cost), and which controls nobody implements yet.
#[utoipa::path(get, path = "/slas/{id}/requirements-check", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = Vec<RequirementCheck>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Another customer's SLA", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json")))]
async fn check(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<RequirementCheck>>> {
    let s = visible_sla(state.store.as_ref(), &principal, SlaId(parse_id(&id)?)).await?;
    Ok(axum::Json(
        crate::service_levels::requirements_check(state.store.as_ref(), &s.terms).await?,
    ))
}

/// Kept reports of the SLA's series, newest period first.
#[utoipa::path(get, path = "/slas/{id}/reports", tag = "service levels", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = Vec<KeptOut>), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Another customer's SLA", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json")))]
async fn list_reports(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<KeptOut>>> {
    let s = visible_sla(state.store.as_ref(), &principal, SlaId(parse_id(&id)?)).await?;
    let kept = state.store.list_reports(s.id).await?;
    Ok(axum::Json(kept.iter().map(KeptOut::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// json (default), html, csv or pdf.
    #[param(value_type = Option<crate::http::doc::ReportFormat>)]
    pub format: Option<String>,
}

/// The SLA's report for a period ("2026-10" or "2026-Q4") in JSON, HTML, CSV or PDF.
#[utoipa::path(get, path = "/slas/{id}/reports/{period}", tag = "service levels", params(("id" = Uuid, Path), ("period" = doc::ReportPeriod, Path), ReportParams),
    responses((status = 200, description = "The report (JSON: ReportOut; or text/html, text/csv, application/pdf)", body = ReportOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Another customer's SLA", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA or service", body = Problem, content_type = "application/problem+json"), (status = 400, description = "Invalid period or format", body = Problem, content_type = "application/problem+json")))]
async fn get_report(
    State(state): State<AppState>,
    Need { principal, .. }: Need<perm::ReadServiceLevels>,
    Path((id, period)): Path<(String, String)>,
    Query(q): Query<ReportParams>,
) -> ApiResult<Response> {
    let sla = visible_sla(state.store.as_ref(), &principal, SlaId(parse_id(&id)?)).await?;
    let period = Period::parse(&period)?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "html" | "csv" | "pdf") {
        return Err(ApiError::validation(
            "format",
            "must be json, html, csv or pdf",
        ));
    }
    let (kept, report) = report_for(state.store.as_ref(), &sla, &period).await?;
    Ok(render(kept.as_ref(), &report, format, &state.settings.public_url).await?)
}

/// Generates and keeps the report for an ended period (normally the scheduler does this
/// per the SLA's reporting frequency); kept reports never change.
#[utoipa::path(post, path = "/slas/{id}/reports/{period}", tag = "service levels", params(("id" = Uuid, Path), ("period" = doc::ReportPeriod, Path)),
    responses((status = 201, description = "Kept", body = KeptOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such SLA", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already kept", body = Problem, content_type = "application/problem+json"), (status = 400, description = "Invalid period, or it has not ended", body = Problem, content_type = "application/problem+json")))]
async fn keep(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageServiceLevels>,
    Path((id, period)): Path<(String, String)>,
) -> ApiResult<(StatusCode, axum::Json<KeptOut>)> {
    let sla = state.store.sla(SlaId(parse_id(&id)?)).await?;
    let period = Period::parse(&period)?;
    let (kept, _) = crate::service_levels::keep_report(
        state.store.as_ref(),
        &actor,
        &sla,
        &period,
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(KeptOut::from(&kept))))
}
