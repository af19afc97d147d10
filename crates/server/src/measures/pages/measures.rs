//! Security measures pages: a CI's required controls and their implementation, editing one
//! implementation, adding controls, and the gap report (with CSV download).

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::LevelLabels;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::http::util::human;
use crate::http::util::parse_rfc3339;
use crate::measures::{GapReport, MeasuresOut, gap_csv, gap_report, measures};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_core::authz::Permission;
use custos_core::controls::ControlFilter;
use custos_core::measures::{ImplStatus, Implementation, check_implementation};
use custos_core::{CiId, ControlId, Timestamp};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cmdb/{id}/measures", get(show).post(add_control))
        .route("/cmdb/{id}/measures/{control}", get(edit_form).post(save))
        .route(
            "/cmdb/{id}/measures/{control}/evidence",
            axum::routing::post(upload_evidence).layer(axum::extract::DefaultBodyLimit::max(
                custos_core::measures::MAX_EVIDENCE_BYTES + 64 * 1024,
            )),
        )
        .route("/evidence/{id}", get(download_evidence))
        .route("/gaps", get(gaps))
        .route("/gaps.csv", get(gaps_csv))
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/measures.html")]
struct ShowPage {
    title: String,
    nav: Option<Nav>,
    lv: LevelLabels,
    csrf: String,
    id: String,
    m: MeasuresOut,
    only: String,
    can_require: bool,
    error: Option<String>,
}

async fn show_page(
    state: &AppState,
    w: &WebUser,
    id: CiId,
    only: String,
    error: Option<String>,
) -> Result<ShowPage, WebError> {
    let r = state.store.ci(id).await?;
    let mut m = measures(state.store.as_ref(), &r).await?;
    if !only.is_empty() {
        m.controls.retain(|c| match only.as_str() {
            "missing" => c.status == "not_started" || c.status == "planned",
            "failed" => c.status == "failed",
            "overdue" => c.overdue,
            _ => true,
        });
    }
    Ok(ShowPage {
        lv: LevelLabels::of(state),
        title: format!("Security measures: {}", r.ci.name),
        nav: Some(Nav::new(w, "/cmdb")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        m,
        only,
        can_require: w.principal.has(Permission::ManageRequirements),
        error,
    })
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let only = crate::http::page::query_map(raw)
        .remove("only")
        .unwrap_or_default();
    Ok(show_page(
        &state,
        &w,
        crate::http::page::path_id::<CiId>(&id)?,
        only,
        None,
    )
    .await?
    .into_response())
}

async fn add_control(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageRequirements)?;
    check_csrf(&form, &w.session)?;
    let id = crate::http::page::path_id::<CiId>(&id)?;
    let result = async {
        let wanted = form.get_or_empty("control").trim().to_lowercase();
        let reason = custos_core::account::clean_text(form.get_or_empty("reason"), 1000);
        if reason.is_empty() {
            return Err(ApiError::validation("reason", "must not be empty"));
        }
        let filter = ControlFilter {
            q: Some(wanted.clone()),
            ..Default::default()
        };
        let found = state
            .store
            .list_controls(&filter, custos_core::page::PageRequest::first(500))
            .await?;
        let control = found
            .items
            .into_iter()
            .find(|c| c.spec.control_id == wanted || c.spec.label.to_lowercase() == wanted)
            .ok_or_else(|| {
                ApiError::validation(
                    "control",
                    "no control has this id or label (e.g. ac-2 or ORG-MEDIA-1)",
                )
            })?;
        state
            .store
            .add_ci_control(&actor, id, control.id, &reason)
            .await
            .map_err(|e| match e {
                custos_core::StoreError::Conflict { .. } => {
                    ApiError::Conflict("this control is already required of this CI".into())
                }
                other => other.into(),
            })
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/cmdb/{id}/measures"))),
        Err(e) if crate::http::page::correctable(&e) => Ok((
            StatusCode::BAD_REQUEST,
            show_page(&state, &w, id, String::new(), Some(e.problem().detail)).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/implementation.html")]
struct EditPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    control_id: String,
    statement: String,
    statuses: Vec<Opt>,
    justification: String,
    evidence: String,
    links: String,
    last_verified: String,
    next_review: String,
    inheritable: bool,
    is_service: bool,
    can_implement: bool,
    files: Vec<EvidenceRow>,
    error: Option<String>,
}

pub struct EvidenceRow {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub by: String,
    pub at: String,
}

fn date(ts: Option<Timestamp>) -> String {
    ts.map(|t| human(t).chars().take(10).collect())
        .unwrap_or_default()
}

fn parse_date(field: &str, s: &str) -> Result<Option<Timestamp>, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_rfc3339(&format!("{s}T00:00:00Z"))
        .map(Some)
        .ok_or_else(|| ApiError::validation(field, "must be a date like 2026-12-31"))
}

async fn edit_page(
    state: &AppState,
    w: &WebUser,
    id: CiId,
    control: ControlId,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<EditPage, WebError> {
    let r = state.store.ci(id).await?;
    let c = state.store.control(control).await?;
    let data = state.store.gap_data(id, None).await?;
    let own = data.own.iter().find(|i| i.control_id == control);
    let get = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let status = get(
        "status",
        own.map(|i| i.status.as_str().to_string())
            .unwrap_or_else(|| "not_started".into()),
    );
    Ok(EditPage {
        title: format!("{} on {}", c.spec.label, r.ci.name),
        nav: Some(Nav::new(w, "/cmdb")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        control_id: control.to_string(),
        statement: c.spec.statement.clone(),
        statuses: ImplStatus::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: s.as_str().replace('_', " "),
                selected: s.as_str() == status,
            })
            .collect(),
        justification: get(
            "justification",
            own.map(|i| i.justification.clone()).unwrap_or_default(),
        ),
        evidence: get(
            "evidence",
            own.map(|i| i.evidence.clone()).unwrap_or_default(),
        ),
        links: get("links", own.map(|i| i.links.join("\n")).unwrap_or_default()),
        last_verified: get("last_verified", date(own.and_then(|i| i.last_verified_at))),
        next_review: get("next_review", date(own.and_then(|i| i.next_review_at))),
        inheritable: form
            .map(|f| f.checked("inheritable"))
            .unwrap_or(own.is_some_and(|i| i.inheritable)),
        is_service: r.ci.ci_type == "business_service",
        can_implement: w.principal.has(Permission::ManageImplementations),
        files: state
            .store
            .list_evidence(id, control)
            .await?
            .into_iter()
            .map(|e| EvidenceRow {
                id: e.id.to_string(),
                name: e.file_name,
                size: e.size,
                sha256: e.sha256,
                by: e.uploaded_by,
                at: human(e.uploaded_at),
            })
            .collect(),
        error,
    })
}

async fn edit_form(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, control)): Path<(String, String)>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    Ok(edit_page(
        &state,
        &w,
        crate::http::page::path_id::<CiId>(&id)?,
        crate::http::page::path_id::<ControlId>(&control)?,
        None,
        None,
    )
    .await?
    .into_response())
}

async fn save(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, control)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageImplementations)?;
    check_csrf(&form, &w.session)?;
    let (id, control) = (
        crate::http::page::path_id::<CiId>(&id)?,
        crate::http::page::path_id::<ControlId>(&control)?,
    );
    let result = async {
        let status = ImplStatus::parse(form.get_or_empty("status"))?;
        let justification =
            custos_core::account::clean_text(form.get_or_empty("justification"), 2000);
        let links: Vec<String> = form
            .get_or_empty("links")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        check_implementation(status, &justification, &links)?;
        let imp = Implementation {
            ci_id: id,
            control_id: control,
            status,
            justification,
            evidence: custos_core::account::clean_text(form.get_or_empty("evidence"), 10_000),
            links,
            owner_id: Some(w.principal.user_id),
            last_verified_at: parse_date("last_verified", form.get_or_empty("last_verified"))?,
            next_review_at: parse_date("next_review", form.get_or_empty("next_review"))?,
            inheritable: form.checked("inheritable"),
            updated_at: Timestamp::now(),
        };
        state.store.put_implementation(&actor, imp).await?;
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/cmdb/{id}/measures"))),
        Err(e) if crate::http::page::correctable(&e) => Ok((
            StatusCode::BAD_REQUEST,
            edit_page(
                &state,
                &w,
                id,
                control,
                Some(&form),
                Some(e.problem().detail),
            )
            .await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/gaps.html")]
struct GapsPage {
    title: String,
    nav: Option<Nav>,
    lv: LevelLabels,
    report: GapReport,
    sort: String,
    types: Vec<Opt>,
    csv: String,
}

async fn report_for(state: &AppState, q: &HashMap<String, String>) -> Result<GapReport, WebError> {
    let scope = q
        .get("scope")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("overall");
    let ci = q.get("ci").and_then(|c| c.parse::<CiId>().ok());
    Ok(gap_report(state.store.as_ref(), scope, ci).await?)
}

async fn gaps(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let q = crate::http::page::query_map(raw.clone());
    let mut report = report_for(&state, &q).await?;
    let ci_type = q.get("ci_type").cloned().unwrap_or_default();
    if !ci_type.is_empty() {
        report.items.retain(|i| i.ci.ci_type == ci_type);
    }
    let sort = q.get("sort").cloned().unwrap_or_else(|| "coverage".into());
    match sort.as_str() {
        "name" => report.items.sort_by_key(|a| a.ci.name.to_lowercase()),
        "failed" => report
            .items
            .sort_by_key(|a| std::cmp::Reverse(a.summary.failed)),
        "missing" => report
            .items
            .sort_by_key(|a| std::cmp::Reverse(a.summary.missing)),
        "overdue" => report
            .items
            .sort_by_key(|a| std::cmp::Reverse(a.summary.overdue_reviews)),
        _ => report
            .items
            .sort_by(|a, b| a.summary.coverage_pct.total_cmp(&b.summary.coverage_pct)),
    }
    let types = state
        .store
        .list_ci_types()
        .await?
        .into_iter()
        .map(|t| Opt {
            selected: t.name == ci_type,
            value: t.name,
            label: t.label,
        })
        .collect();
    Ok(GapsPage {
        lv: LevelLabels::of(&state),
        title: "Security measures: gaps".into(),
        nav: Some(Nav::new(&w, "/gaps")),
        csv: format!("/gaps.csv?{}", raw.unwrap_or_default()),
        report,
        sort,
        types,
    }
    .into_response())
}

async fn gaps_csv(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let report = report_for(&state, &crate::http::page::query_map(raw)).await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"custos-gaps.csv\"",
            ),
        ],
        gap_csv(&report),
    )
        .into_response())
}

async fn upload_evidence(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, control)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageImplementations)?;
    let (id, control) = (
        crate::http::page::path_id::<CiId>(&id)?,
        crate::http::page::path_id::<ControlId>(&control)?,
    );
    let (fields, upload) = crate::http::page::read_upload(req, &state, "file").await?;
    check_csrf(&fields, &w.session)?;
    let file = upload.map(|f| (f.name, f.content_type, f.bytes));
    let result = async {
        let (name, ct, bytes) = file
            .filter(|f| !f.2.is_empty())
            .ok_or_else(|| ApiError::validation("file", "choose a file"))?;
        let name = custos_core::measures::clean_file_name(&name)?;
        state
            .store
            .add_evidence(&actor, id, control, &name, &ct, &bytes)
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/cmdb/{id}/measures/{control}"))),
        Err(e) if crate::http::page::correctable(&e) => Ok((
            StatusCode::BAD_REQUEST,
            edit_page(&state, &w, id, control, None, Some(e.problem().detail)).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn download_evidence(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let id: custos_core::EvidenceId = crate::http::page::path_id(&id)?;
    let (meta, content) = state.store.evidence(id).await?;
    Ok(crate::http::util::file_response(
        &meta.file_name,
        &meta.sha256,
        content,
    ))
}
