//! Service catalogue pages: the list, a service with its hours, targets, security baseline,
//! SLAs, OLAs and contracts and which of them underpins each SLA requirement. Also the
//! router of the catalogue, OLA and contract pages (`service_form`, `underpinning`).

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::all_slas;
use crate::service_levels::every;
use crate::service_levels::pages::common::ControlRef;
use crate::service_levels::pages::common::DAYS;
use crate::service_levels::pages::common::SlaRow;
use crate::service_levels::pages::common::all_customers;
use crate::service_levels::pages::common::all_services;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::control_lines;
use crate::service_levels::pages::common::control_refs;
use crate::service_levels::pages::common::date_str;
use crate::service_levels::pages::common::field_label;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::today;
use crate::service_levels::pages::common::user_names;
use crate::service_levels::pages::common::write_error;
use crate::service_levels::service_underpinning;
use crate::service_levels::visible_customers;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::page::PageRequest;
use custos_core::service::Service;
use custos_core::sla::{Contract, Ola, Underpin};
use custos_core::store::{CiFilter, SlaFilter};
use custos_core::time::Date;
use custos_core::{CiId, ControlId, CustomerId, StoreError};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    use crate::service_levels::pages::service_form;
    use crate::service_levels::pages::underpinning;
    Router::new()
        .route("/services", get(list))
        .route("/services/new", get(choose))
        .route("/services/{id}", get(show).post(service_form::save))
        .route("/services/{id}/edit", get(service_form::edit))
        .route("/olas", post(underpinning::create_ola))
        .route("/olas/new", get(underpinning::new_ola))
        .route("/olas/{id}", post(update_ola))
        .route("/olas/{id}/edit", get(edit_ola))
        .route("/olas/{id}/delete", post(underpinning::delete_ola))
        .route("/contracts", post(underpinning::create_contract))
        .route("/contracts/new", get(underpinning::new_contract))
        .route("/contracts/{id}", post(update_contract))
        .route("/contracts/{id}/edit", get(edit_contract))
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
#[template(path = "service_levels/services.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    rows: Vec<ServiceRow>,
    /// The query string of the next page, if there is one.
    next: Option<String>,
    can_manage: bool,
}

/// Services in catalogue order, 50 a page (`?cursor=` from the "Next page" link).
async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let page = state
        .store
        .list_services(PageRequest::new(Some(50), cursor))
        .await?;
    let names = user_names(&all_users(&state).await?);
    let customers = visible_customers(state.store.as_ref(), &w.principal).await?;
    let mut rows = vec![];
    for s in &page.items {
        // The SLAs this user may see, counted for the services on this page only.
        let slas = all_slas(
            state.store.as_ref(),
            &SlaFilter {
                customers: customers.clone(),
                service: Some(s.ci_id),
                status: None,
            },
        )
        .await?;
        rows.push(ServiceRow {
            id: s.ci_id.to_string(),
            name: s.name.clone(),
            owner: s
                .owner_id
                .and_then(|o| names.get(&o).cloned())
                .unwrap_or_default(),
            slas: slas.len(),
        });
    }
    let next = page.next_cursor.map(|c| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", &c.to_string())
            .finish()
    });
    Ok(ListPage {
        title: "Service catalogue".into(),
        nav: Some(Nav::new(&w, "/services")),
        rows,
        next,
        can_manage: w.principal.has(Permission::ManageServiceLevels),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/service_new.html")]
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
    if let Some(ci) = crate::http::page::query_map(raw)
        .get("ci")
        .filter(|c| !c.is_empty())
    {
        let ci: CiId = crate::http::page::path_id(ci)?;
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
#[template(path = "service_levels/service.html")]
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
    let id: CiId = crate::http::page::path_id(&id)?;
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
        let store = state.store.as_ref();
        for o in every(|page| store.list_olas(Some(id), page)).await? {
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
        let suppliers: HashMap<_, _> = every(|page| store.list_suppliers(page))
            .await?
            .into_iter()
            .map(|x| (x.id, x.name))
            .collect();
        for k in every(|page| store.list_contracts(Some(id), page)).await? {
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
    let id: CiId = crate::http::page::path_id(&id)?;
    Ok(see_other(&format!("/cmdb/{id}/measures")))
}

// ---- editing an OLA or a contract --------------------------------------------------
//
// The forms share their fields with the new-agreement forms in `underpinning`
// (sl_ola_fields.html, sl_contract_fields.html). The agreement keeps its service; the
// terms are checked as the API's PUT checks them (`OlaTerms::validate`,
// `ContractTerms::validate`).

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/ola_edit.html")]
struct OlaEditPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    service_id: String,
    team: String,
    departments: Vec<Opt>,
    types: Vec<Opt>,
    component_ci: String,
    controls: String,
    targets: String,
    valid_from: String,
    valid_to: String,
    review_date: String,
    error: Option<String>,
}

/// The edit form of `o`, with the submitted `form`'s values instead when it is given.
async fn ola_edit_page(
    state: &AppState,
    w: &WebUser,
    o: &Ola,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<OlaEditPage, WebError> {
    let t = &o.terms;
    let service = state.store.service(t.service_id).await?;
    let component_ci = match t.component_ci {
        Some(ci) => match state.store.ci(ci).await {
            Ok(r) => r.ci.external_key.unwrap_or_else(|| ci.to_string()),
            Err(StoreError::NotFound { .. }) => ci.to_string(),
            Err(e) => return Err(e.into()),
        },
        None => String::new(),
    };
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let depts = state
        .store
        .list_departments(PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|d| (d.id.to_string(), d.name));
    let types = state
        .store
        .list_ci_types()
        .await?
        .into_iter()
        .map(|t| (t.name, t.label));
    let dept = t.department_id.map(|d| d.to_string()).unwrap_or_default();
    Ok(OlaEditPage {
        title: format!("Edit OLA of {} for {}", t.team, service.name),
        nav: Some(Nav::new(w, "/services")),
        csrf: w.session.csrf_token.clone(),
        id: o.id.to_string(),
        service_id: t.service_id.to_string(),
        departments: opts(depts, &pick("department_id", dept)),
        types: opts(
            types,
            &pick(
                "component_type",
                t.component_type.clone().unwrap_or_default(),
            ),
        ),
        team: pick("team", t.team.clone()),
        component_ci: pick("component_ci", component_ci),
        controls: pick("controls", control_lines(state, &t.controls).await?),
        targets: pick("targets", t.targets.clone()),
        valid_from: pick("valid_from", t.valid_from.as_str().to_string()),
        valid_to: pick("valid_to", t.valid_to.as_str().to_string()),
        review_date: pick("review_date", date_str(&t.review_date)),
        error,
    })
}

async fn edit_ola(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let o = state.store.ola(crate::http::page::path_id(&id)?).await?;
    Ok(ola_edit_page(&state, &w, &o, None, None)
        .await?
        .into_response())
}

async fn update_ola(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let o = state.store.ola(crate::http::page::path_id(&id)?).await?;
    let service = o.terms.service_id;
    let result = async {
        let terms =
            crate::service_levels::pages::underpinning::ola_terms(&state, service, &form).await?;
        state
            .store
            .update_ola(&actor, o.id, terms)
            .await
            .map_err(write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{service}#olas"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = ola_edit_page(&state, &w, &o, Some(&form), Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/contract_edit.html")]
struct ContractEditPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    service_id: String,
    suppliers: Vec<Opt>,
    contract_title: String,
    security_requirements: String,
    controls: String,
    penalties: String,
    penalty_amount: String,
    currency: String,
    valid_from: String,
    valid_to: String,
    review_date: String,
    error: Option<String>,
}

/// The edit form of `k`, with the submitted `form`'s values instead when it is given.
async fn contract_edit_page(
    state: &AppState,
    w: &WebUser,
    k: &Contract,
    form: Option<&Form>,
    error: Option<String>,
) -> Result<ContractEditPage, WebError> {
    let t = &k.terms;
    let service = state.store.service(t.service_id).await?;
    let pick = |k: &str, v: String| form.map(|f| f.get_or_empty(k).to_string()).unwrap_or(v);
    let mut suppliers = vec![];
    let mut page = PageRequest::first(500);
    loop {
        let p = state.store.list_suppliers(page).await?;
        suppliers.extend(p.items.into_iter().map(|s| {
            (
                s.id.to_string(),
                format!("{} ({} risk)", s.name, s.risk_tier.as_str()),
            )
        }));
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(500), Some(c)),
            None => break,
        }
    }
    Ok(ContractEditPage {
        title: format!("Edit contract {} for {}", t.title, service.name),
        nav: Some(Nav::new(w, "/services")),
        csrf: w.session.csrf_token.clone(),
        id: k.id.to_string(),
        service_id: t.service_id.to_string(),
        suppliers: opts(suppliers, &pick("supplier_id", t.supplier_id.to_string())),
        contract_title: pick("title", t.title.clone()),
        security_requirements: pick("security_requirements", t.security_requirements.clone()),
        controls: pick("controls", control_lines(state, &t.controls).await?),
        penalties: pick("penalties", t.penalties.clone()),
        penalty_amount: pick(
            "penalty_amount",
            t.penalty_amount
                .map(custos_core::sla_report::fmt_num)
                .unwrap_or_default(),
        ),
        currency: pick("currency", t.currency.clone()),
        valid_from: pick("valid_from", t.valid_from.as_str().to_string()),
        valid_to: pick("valid_to", t.valid_to.as_str().to_string()),
        review_date: pick("review_date", date_str(&t.review_date)),
        error,
    })
}

async fn edit_contract(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let k = state
        .store
        .contract(crate::http::page::path_id(&id)?)
        .await?;
    Ok(contract_edit_page(&state, &w, &k, None, None)
        .await?
        .into_response())
}

async fn update_contract(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(&form, &w.session)?;
    let k = state
        .store
        .contract(crate::http::page::path_id(&id)?)
        .await?;
    let service = k.terms.service_id;
    let result = async {
        let terms =
            crate::service_levels::pages::underpinning::contract_terms(&state, service, &form)
                .await?;
        state
            .store
            .update_contract(&actor, k.id, terms)
            .await
            .map_err(write_error)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{service}#contracts"))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, field_label);
            let page = contract_edit_page(&state, &w, &k, Some(&form), Some(msg)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
