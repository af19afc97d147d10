//! An SLA's report for one period inside the page layout: the kept (frozen, hashed) one
//! when there is one, else a live preview; downloads in PDF, CSV and JSON; keeping the
//! report of an ended period.

use crate::service_levels::pages::common::field_label;

use crate::service_levels::pages::common::form_message;

use crate::service_levels::pages::common::today;

use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::util::human;
use crate::service_levels::download::render;
use crate::service_levels::pages::common::user_names;
use crate::service_levels::pages::slas::visible;
use crate::service_levels::report_for;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use custos_core::authz::Permission;
use custos_core::sla::{Frequency, Sla};
use custos_core::sla_report::Period;
use custos_core::store::KeptReport;
use custos_core::{SlaId, Timestamp};

/// `?period=` from the SLA page's form: to the report's own address.
pub async fn open(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let s = visible(&state, &w, crate::http::page::path_id(&id)?).await?;
    let wanted = crate::http::page::query_map(raw)
        .remove("period")
        .unwrap_or_default();
    let period = if wanted.trim().is_empty() {
        let quarterly = s.terms.security.reporting == Frequency::Quarterly;
        Period::last_complete(&today(), quarterly)
    } else {
        match Period::parse(&wanted) {
            Ok(p) => p,
            Err(e) => {
                let msg = form_message(&ApiError::from(e), field_label);
                let page =
                    crate::service_levels::pages::slas::sla_page(&state, &w, s, Some(msg)).await?;
                return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
            }
        }
    };
    Ok(see_other(&format!("/slas/{}/reports/{period}", s.id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/report.html")]
struct ReportPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    sla_id: String,
    sla_name: String,
    period: String,
    kept: Option<KeptInfo>,
    can_keep: bool,
    fragment: String,
    error: Option<String>,
}

pub struct KeptInfo {
    pub at: String,
    pub by: String,
    pub sha256: String,
}

async fn report_page(
    state: &AppState,
    w: &WebUser,
    s: &Sla,
    period: &Period,
    error: Option<String>,
) -> Result<ReportPage, WebError> {
    let (kept, report) = report_for(state.store.as_ref(), s, period).await?;
    let kept = match kept {
        Some(k) => Some(kept_info(state, &k).await?),
        None => None,
    };
    let (_, last) = period.dates();
    let ended = last < today();
    Ok(ReportPage {
        title: format!("{}: SLA report {period}", s.terms.name),
        nav: Some(Nav::new(w, "/slas")),
        csrf: w.session.csrf_token.clone(),
        sla_id: s.id.to_string(),
        sla_name: s.terms.name.clone(),
        period: period.to_string(),
        can_keep: kept.is_none() && ended && w.principal.has(Permission::ManageServiceLevels),
        kept,
        // Escaped by the report's own templates; the one place a page inserts markup.
        fragment: custos_report::html_fragment(&report, ""),
        error,
    })
}

async fn kept_info(state: &AppState, k: &KeptReport) -> Result<KeptInfo, WebError> {
    let by = match k.generated_by {
        Some(u) => {
            let users = crate::service_levels::pages::common::all_users(state).await?;
            user_names(&users)
                .get(&u)
                .cloned()
                .unwrap_or_else(|| "a former user".into())
        }
        None => "the report scheduler".into(),
    };
    Ok(KeptInfo {
        at: human(k.generated_at),
        by,
        sha256: k.sha256.clone(),
    })
}

/// `2026-10` (the page) or `2026-10.pdf`, `.csv`, `.json` (downloads).
fn split_format(segment: &str) -> Result<(&str, Option<&str>), WebError> {
    match segment.rsplit_once('.') {
        None => Ok((segment, None)),
        Some((p, ext @ ("pdf" | "csv" | "json"))) => Ok((p, Some(ext))),
        Some(_) => Err(WebError::NotFound),
    }
}

pub async fn report(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, segment)): Path<(String, String)>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let s = visible(&state, &w, crate::http::page::path_id(&id)?).await?;
    let (period, format) = split_format(&segment)?;
    let period = Period::parse(period).map_err(ApiError::from)?;
    match format {
        Some(f) => {
            let (kept, report) = report_for(state.store.as_ref(), &s, &period).await?;
            Ok(render(kept.as_ref(), &report, f, &state.settings.public_url).await?)
        }
        None => Ok(report_page(&state, &w, &s, &period, None)
            .await?
            .into_response()),
    }
}

pub async fn keep(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, period)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: SlaId = crate::http::page::path_id(&id)?;
    let s = state.store.sla(id).await?;
    let period = Period::parse(&period).map_err(ApiError::from)?;
    let result = crate::service_levels::keep_report(
        state.store.as_ref(),
        &actor,
        &s,
        &period,
        Timestamp::now(),
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/slas/{id}/reports/{period}"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = report_page(&state, &w, &s, &period, Some(msg)).await?;
            Ok((crate::http::page::Refusal::status(&e), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
