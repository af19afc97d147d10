//! Service catalogue pages: the list, a service with its hours, targets, security baseline,
//! SLAs, OLAs and contracts and which of them underpins each SLA requirement. Also the
//! router of the catalogue, OLA and contract pages (`service_form`, `underpinning`).

use super::admin::Opt;
use super::sl_common::{
    ControlRef, DAYS, SlaRow, all_customers, all_services, all_users, control_refs, date_str, opts,
    today, user_names,
};
use super::{Nav, WebError, WebUser, see_other};
use crate::service_levels::{all_slas, service_underpinning, visible_customers};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::service::Service;
use custos_core::sla::Underpin;
use custos_core::store::{CiFilter, SlaFilter};
use custos_core::time::Date;
use custos_core::{CiId, ControlId, CustomerId};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    use super::{service_form, underpinning};
    Router::new()
        .route("/services", get(list))
        .route("/services/new", get(choose))
        .route("/services/{id}", get(show).post(service_form::save))
        .route("/services/{id}/edit", get(service_form::edit))
        .route("/olas", post(underpinning::create_ola))
        .route("/olas/new", get(underpinning::new_ola))
        .route("/olas/{id}/delete", post(underpinning::delete_ola))
        .route("/contracts", post(underpinning::create_contract))
        .route("/contracts/new", get(underpinning::new_contract))
        .route(
            "/contracts/{id}/delete",
            post(underpinning::delete_contract),
        )
        // The SLA report links to a CI's measures by the API-style path.
        .route("/cmdb/cis/{id}/measures", get(measures_link))
}

// ---- the catalogue -----------------------------------------------------------------

pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub slas: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "sl_services.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<ServiceRow>,
    can_manage: bool,
}

async fn list(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let services = all_services(&state).await?;
    let names = user_names(&all_users(&state).await?);
    let slas = all_slas(
        state.store.as_ref(),
        &SlaFilter {
            customers: visible_customers(state.store.as_ref(), &w.principal).await?,
            ..Default::default()
        },
    )
    .await?;
    let mut rows: Vec<ServiceRow> = services
        .iter()
        .map(|s| ServiceRow {
            id: s.ci_id.to_string(),
            name: s.name.clone(),
            owner: s
                .owner_id
                .and_then(|o| names.get(&o).cloned())
                .unwrap_or_default(),
            slas: slas
                .iter()
                .filter(|x| x.terms.service_id == s.ci_id)
                .count(),
        })
        .collect();
    rows.sort_by_key(|r| r.name.to_lowercase());
    Ok(ListPage {
        title: "Service catalogue".into(),
        nav: Some(Nav::new(&w, "/services")),
        rows,
        can_manage: w.principal.has(Permission::ManageServiceLevels),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "sl_service_new.html")]
struct ChoosePage {
    title: String,
    nav: Option<Nav>,
    cis: Vec<Opt>,
}

/// Picks a business_service CI that has no catalogue entry yet (then its edit form).
async fn choose(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    if let Some(ci) = super::query_map(raw).get("ci").filter(|c| !c.is_empty()) {
        let ci: CiId = super::path_id(ci)?;
        return Ok(see_other(&format!("/services/{ci}/edit")));
    }
    let catalogued: Vec<CiId> = all_services(&state)
        .await?
        .into_iter()
        .map(|s| s.ci_id)
        .collect();
    let filter = CiFilter {
        ci_type: Some("business_service".into()),
        ..Default::default()
    };
    let cis = state
        .store
        .list_cis(&filter, PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .filter(|r| !catalogued.contains(&r.ci.id))
        .map(|r| (r.ci.id.to_string(), r.ci.name))
        .collect::<Vec<_>>();
    Ok(ChoosePage {
        title: "Add a service to the catalogue".into(),
        nav: Some(Nav::new(&w, "/services")),
        cis: opts(cis, ""),
    }
    .into_response())
}

pub struct DayRow {
    pub day: &'static str,
    pub hours: String,
}

pub struct AgreementRow {
    pub id: String,
    pub name: String,
    pub detail: String,
    pub controls: Vec<ControlRef>,
    pub valid: String,
    pub review: String,
    pub in_force: bool,
}

pub struct UnderpinRow {
    pub sla_id: String,
    pub sla_name: String,
    pub key: String,
    pub text: String,
    pub control: String,
    pub by: Vec<String>,
}

pub struct Unsupported {
    pub sla_name: String,
    pub key: String,
    pub controls: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sl_service.html")]
struct ShowPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    s: Service,
    owner: String,
    days: Vec<DayRow>,
    baseline: Vec<ControlRef>,
    slas: Vec<SlaRow>,
    see_all: bool,
    olas: Vec<AgreementRow>,
    contracts: Vec<AgreementRow>,
    underpinning: Vec<UnderpinRow>,
    unsupported: Vec<Unsupported>,
    can_manage: bool,
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let id: CiId = super::path_id(&id)?;
    let s = state.store.service(id).await?;
    let users = all_users(&state).await?;
    let names = user_names(&users);
    let see_all = w.principal.has(Permission::ReadAllServiceLevels);
    let today = today();
    let days = DAYS
        .iter()
        .map(|(key, name)| {
            let w: Vec<String> = s
                .hours
                .windows
                .iter()
                .filter(|w| w.day == *key)
                .map(|w| format!("{}–{}", w.start, w.end))
                .collect();
            DayRow {
                day: name,
                hours: if w.is_empty() {
                    "closed".into()
                } else {
                    w.join(", ")
                },
            }
        })
        .collect();
    let customers: HashMap<CustomerId, String> = all_customers(&state)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let slas = all_slas(
        state.store.as_ref(),
        &SlaFilter {
            customers: visible_customers(state.store.as_ref(), &w.principal).await?,
            service: Some(id),
            status: None,
        },
    )
    .await?;
    let sla_name: HashMap<_, _> = slas
        .iter()
        .map(|x| (x.id, format!("{} v{}", x.terms.name, x.version)))
        .collect();
    let (mut olas, mut contracts, mut underpinning, mut unsupported) =
        (vec![], vec![], vec![], vec![]);
    if see_all {
        let valid = |f: &Date, t: &Date| f <= &today && &today <= t;
        for o in state
            .store
            .list_olas(Some(id), PageRequest::first(500))
            .await?
            .items
        {
            let t = &o.terms;
            olas.push(AgreementRow {
                id: o.id.to_string(),
                name: t.team.clone(),
                detail: match (&t.component_ci, &t.component_type) {
                    (Some(ci), _) => format!("one CI ({ci})"),
                    (_, Some(ty)) => format!("every {ty}"),
                    _ => String::new(),
                },
                controls: control_refs(&state, &t.controls).await?,
                valid: format!("{} to {}", t.valid_from.as_str(), t.valid_to.as_str()),
                review: date_str(&t.review_date),
                in_force: valid(&t.valid_from, &t.valid_to),
            });
        }
        let suppliers: HashMap<_, _> = state
            .store
            .list_suppliers(PageRequest::first(500))
            .await?
            .items
            .into_iter()
            .map(|x| (x.id, x.name))
            .collect();
        for k in state
            .store
            .list_contracts(Some(id), PageRequest::first(500))
            .await?
            .items
        {
            let t = &k.terms;
            contracts.push(AgreementRow {
                id: k.id.to_string(),
                name: t.title.clone(),
                detail: suppliers.get(&t.supplier_id).cloned().unwrap_or_default(),
                controls: control_refs(&state, &t.controls).await?,
                valid: format!("{} to {}", t.valid_from.as_str(), t.valid_to.as_str()),
                review: date_str(&t.review_date),
                in_force: valid(&t.valid_from, &t.valid_to),
            });
        }
        let u = service_underpinning(state.store.as_ref(), id, &today).await?;
        let ids: Vec<ControlId> = u.iter().flat_map(|r| r.controls.keys().copied()).collect();
        let labels: HashMap<String, String> = control_refs(&state, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c.label))
            .collect();
        let label = |c: &ControlId| labels.get(&c.to_string()).cloned().unwrap_or_default();
        for r in &u {
            let sla = sla_name.get(&r.sla_id).cloned().unwrap_or_default();
            if r.unsupported {
                unsupported.push(Unsupported {
                    sla_name: sla.clone(),
                    key: r.key.clone(),
                    controls: r
                        .controls
                        .iter()
                        .filter(|(_, by)| by.is_empty())
                        .map(|(c, _)| label(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            for (c, by) in &r.controls {
                underpinning.push(UnderpinRow {
                    sla_id: r.sla_id.to_string(),
                    sla_name: sla.clone(),
                    key: r.key.clone(),
                    text: r.text.clone(),
                    control: label(c),
                    by: by
                        .iter()
                        .map(|b| match b {
                            Underpin::Ola { team, .. } => format!("OLA: {team}"),
                            Underpin::Contract { title, .. } => format!("Contract: {title}"),
                        })
                        .collect(),
                });
            }
        }
    }
    Ok(ShowPage {
        title: s.name.clone(),
        nav: Some(Nav::new(&w, "/services")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        owner: s
            .owner_id
            .and_then(|o| names.get(&o).cloned())
            .unwrap_or_default(),
        days,
        baseline: control_refs(&state, &s.baseline).await?,
        slas: slas
            .iter()
            .map(|x| SlaRow {
                id: x.id.to_string(),
                name: x.terms.name.clone(),
                version: x.version,
                other: customers
                    .get(&x.terms.customer_id)
                    .cloned()
                    .unwrap_or_default(),
                status: x.status_on(&today).as_str(),
                valid: format!(
                    "{} to {}",
                    x.terms.valid_from.as_str(),
                    x.terms.valid_to.as_str()
                ),
            })
            .collect(),
        see_all,
        olas,
        contracts,
        underpinning,
        unsupported,
        can_manage: w.principal.has(Permission::ManageServiceLevels),
        s,
    }
    .into_response())
}

async fn measures_link(w: WebUser, Path(id): Path<String>) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let id: CiId = super::path_id(&id)?;
    Ok(see_other(&format!("/cmdb/{id}/measures")))
}
