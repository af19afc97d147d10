//! An SLA's page: every section of its terms, both agreements, the requirements check
//! against the service's baseline, its versions and kept reports; agreeing, starting a new
//! version and deleting a draft. Also the router of the SLA pages: the list is in
//! `sla_list`, the form in `sla_form`, reports in `sla_reports`.

use crate::service_levels::pages::common::ControlRef;

use crate::service_levels::pages::common::all_users;

use crate::service_levels::pages::common::control_refs;

use crate::service_levels::pages::common::field_label;

use crate::service_levels::pages::common::form_message;

use crate::service_levels::pages::common::today;

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
use crate::service_levels::may_agree;
use crate::service_levels::pages::common::user_names;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::classification::DIMENSIONS;
use custos_core::sla::{Agreement, Coverage, Frequency, Side, Sla, SlaStatus, check_agreement};
use custos_core::sla_report::Period;
use custos_core::{SlaId, StoreError};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    use crate::service_levels::pages::sla_form;
    use crate::service_levels::pages::sla_list;
    use crate::service_levels::pages::sla_reports;
    Router::new()
        .route("/slas", get(sla_list::list).post(sla_form::create))
        .route("/slas/new", get(sla_form::new_form))
        .route("/slas/{id}", get(show).post(sla_form::update))
        .route("/slas/{id}/edit", get(sla_form::edit_form))
        .route("/slas/{id}/agree", post(agree))
        .route("/slas/{id}/versions", post(new_version))
        .route("/slas/{id}/delete", post(delete))
        .route("/slas/{id}/reports", get(sla_reports::open))
        .route("/slas/{id}/reports/{period}", get(sla_reports::report))
        .route("/slas/{id}/reports/{period}/keep", post(sla_reports::keep))
}

/// An SLA `w` may see; another customer's is forbidden, as in the API.
pub async fn visible(state: &AppState, w: &WebUser, id: SlaId) -> Result<Sla, WebError> {
    crate::service_levels::visible_sla(state.store.as_ref(), &w.principal, id)
        .await
        .map_err(|e| match e {
            custos_core::Error::Forbidden(_) => WebError::Forbidden,
            other => other.into(),
        })
}

pub struct ReqRow {
    pub key: String,
    pub text: String,
    pub controls: Vec<ControlRef>,
}

pub struct CheckRow {
    pub key: String,
    pub text: String,
    pub baseline: bool,
    pub additional: Vec<ControlRef>,
    pub unimplemented: Vec<ControlRef>,
}

pub struct KpiRow {
    pub label: &'static str,
    pub target: String,
    pub how: String,
}

pub struct VersionRow {
    pub id: String,
    pub version: i32,
    pub status: &'static str,
    pub current: bool,
    pub valid: String,
}

pub struct ReportRow {
    pub sla_id: String,
    pub period: String,
    pub generated: String,
    pub by: String,
    pub sha256: String,
}

/// (dimension, level key or empty, display text)
pub struct LevelRow {
    pub dimension: &'static str,
    pub level: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/sla.html")]
pub struct SlaPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    s: Sla,
    status: &'static str,
    customer: String,
    service: String,
    customer_agreement: Option<String>,
    owner_agreement: Option<String>,
    agree_customer: bool,
    agree_owner: bool,
    can_manage: bool,
    is_draft: bool,
    can_new_version: bool,
    levels: Vec<LevelRow>,
    requirements: Vec<ReqRow>,
    criteria_levels: Vec<String>,
    authorised_users: Vec<String>,
    authorised_roles: Vec<&'static str>,
    kpis: Vec<KpiRow>,
    check: Vec<CheckRow>,
    versions: Vec<VersionRow>,
    reports: Vec<ReportRow>,
    period: String,
    last_month: String,
    last_quarter: String,
    error: Option<String>,
}

fn agreed(a: &Option<Agreement>, names: &HashMap<custos_core::UserId, String>) -> Option<String> {
    a.as_ref().map(|a| {
        format!(
            "{} on {}",
            names
                .get(&a.user_id)
                .cloned()
                .unwrap_or_else(|| "a former user".into()),
            human(a.at)
        )
    })
}

async fn may(state: &AppState, w: &WebUser, s: &Sla, side: Side) -> Result<bool, WebError> {
    let today = today();
    if !w.principal.has(Permission::AgreeSlas) || check_agreement(s, side, &today).is_err() {
        return Ok(false);
    }
    match may_agree(state.store.as_ref(), &w.principal, s, side).await {
        Ok(b) => Ok(b),
        Err(custos_core::Error::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The SLA page, with `error` above it (a refused agreement, version or deletion).
pub async fn sla_page(
    state: &AppState,
    w: &WebUser,
    s: Sla,
    error: Option<String>,
) -> Result<SlaPage, WebError> {
    let today = today();
    let lv = LevelLabels::of(state);
    let users = all_users(state).await?;
    let names = user_names(&users);
    let customer = state
        .store
        .customer(s.terms.customer_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let service = match state.store.service(s.terms.service_id).await {
        Ok(x) => x.name,
        Err(StoreError::NotFound { .. }) => String::new(),
        Err(e) => return Err(e.into()),
    };
    let sec = &s.terms.security;
    let mut requirements = vec![];
    for r in &sec.requirements {
        requirements.push(ReqRow {
            key: r.key.clone(),
            text: r.text.clone(),
            controls: control_refs(state, &r.controls).await?,
        });
    }
    let mut check = vec![];
    for c in crate::service_levels::requirements_check(state.store.as_ref(), &s.terms).await? {
        check.push(CheckRow {
            baseline: c.coverage == Coverage::Baseline,
            additional: control_refs(state, &c.additional_controls).await?,
            unimplemented: control_refs(state, &c.unimplemented_controls).await?,
            key: c.key,
            text: c.text,
        });
    }
    let versions = state.store.sla_versions(s.series_id).await?;
    let has_draft = versions.iter().any(|v| v.status == SlaStatus::Draft);
    let reports = state
        .store
        .list_reports(s.id)
        .await?
        .into_iter()
        .map(|k| ReportRow {
            sla_id: k.sla_id.to_string(),
            period: k.period.to_string(),
            generated: human(k.generated_at),
            by: k
                .generated_by
                .map(|u| names.get(&u).cloned().unwrap_or_default())
                .unwrap_or_else(|| "the report scheduler".into()),
            sha256: k.sha256,
        })
        .collect();
    let quarterly = sec.reporting == Frequency::Quarterly;
    let can_manage = w.principal.has(Permission::ManageServiceLevels);
    Ok(SlaPage {
        title: format!("{} (version {})", s.terms.name, s.version),
        nav: Some(Nav::new(w, "/slas")),
        csrf: w.session.csrf_token.clone(),
        id: s.id.to_string(),
        status: s.status_on(&today).as_str(),
        customer,
        service,
        customer_agreement: agreed(&s.customer_agreement, &names),
        owner_agreement: agreed(&s.owner_agreement, &names),
        agree_customer: may(state, w, &s, Side::Customer).await?,
        agree_owner: may(state, w, &s, Side::Owner).await?,
        can_manage,
        is_draft: s.status == SlaStatus::Draft,
        can_new_version: can_manage && !has_draft,
        levels: DIMENSIONS
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let l = sec.classification.get(i);
                LevelRow {
                    dimension: d,
                    level: l.map(|l| l.as_str().to_string()).unwrap_or_default(),
                    text: l
                        .map(|l| lv.get(l.as_str()).to_string())
                        .unwrap_or_else(|| "not set".into()),
                }
            })
            .collect(),
        requirements,
        criteria_levels: sec
            .incident_criteria
            .affected_levels
            .iter()
            .map(|c| format!("{} at least {}", c.dimension, lv.get(c.at_least.as_str())))
            .collect(),
        authorised_users: sec
            .authorised_users
            .iter()
            .map(|u| names.get(u).cloned().unwrap_or_else(|| u.to_string()))
            .collect(),
        authorised_roles: sec.authorised_roles.iter().map(|r| r.label()).collect(),
        kpis: s
            .terms
            .kpis
            .iter()
            .map(|k| KpiRow {
                label: k.metric.label(),
                target: format!(
                    "{} {}",
                    k.comparison.symbol(),
                    custos_core::sla_report::fmt_num(k.target)
                ),
                how: k.measured_how.clone(),
            })
            .collect(),
        check,
        versions: versions
            .iter()
            .map(|v| VersionRow {
                id: v.id.to_string(),
                version: v.version,
                status: v.status_on(&today).as_str(),
                current: v.id == s.id,
                valid: format!(
                    "{} to {}",
                    v.terms.valid_from.as_str(),
                    v.terms.valid_to.as_str()
                ),
            })
            .collect(),
        reports,
        period: Period::last_complete(&today, quarterly).to_string(),
        last_month: Period::last_complete(&today, false).to_string(),
        last_quarter: Period::last_complete(&today, true).to_string(),
        error,
        s,
    })
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let s = visible(&state, &w, crate::http::page::path_id(&id)?).await?;
    Ok(sla_page(&state, &w, s, None).await?.into_response())
}

/// The SLA page again with the reason an action was refused (or the failure itself).
async fn refused(
    state: &AppState,
    w: &WebUser,
    id: SlaId,
    e: ApiError,
) -> Result<Response, WebError> {
    if !crate::http::page::correctable(&e) {
        return Err(e.into());
    }
    let s = visible(state, w, id).await?;
    let msg = form_message(&e, field_label);
    Ok((e.status(), sla_page(state, w, s, Some(msg)).await?).into_response())
}

async fn agree(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::AgreeSlas)?;
    check_csrf(&form, &w.session)?;
    let id: SlaId = crate::http::page::path_id(&id)?;
    let side = match form.get_or_empty("side") {
        "customer" => Side::Customer,
        "owner" => Side::Owner,
        _ => {
            return Err(WebError::BadRequest(
                "Say which side agrees: customer or owner.".into(),
            ));
        }
    };
    let s = state.store.sla(id).await?;
    if !may_agree(state.store.as_ref(), &w.principal, &s, side).await? {
        return Err(WebError::Forbidden);
    }
    match state.store.agree_sla(&actor, id, side, &today()).await {
        Ok(s) => {
            if s.status == SlaStatus::Agreed {
                crate::incidents::refresh_sla_access(
                    state.store.as_ref(),
                    &actor,
                    s.terms.service_id,
                    &today(),
                )
                .await?;
            }
            Ok(see_other(&format!("/slas/{id}")))
        }
        Err(e) => refused(&state, &w, id, e.into()).await,
    }
}

async fn new_version(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: SlaId = crate::http::page::path_id(&id)?;
    match state.store.new_sla_version(&actor, id).await {
        Ok(v) => Ok(see_other(&format!("/slas/{}/edit", v.id))),
        Err(e) => refused(&state, &w, id, e.into()).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let id: SlaId = crate::http::page::path_id(&id)?;
    match state.store.delete_sla(&actor, id).await {
        Ok(()) => Ok(see_other("/slas")),
        Err(e) => refused(&state, &w, id, e.into()).await,
    }
}
