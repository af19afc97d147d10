//! The SLA form (new draft and editing a draft): parties and validity, targets, and the
//! security section — classification, requirements as lines `KEY | text | AC-2, AU-6`,
//! incident criteria, authorised personnel, asset protection and copying rules, reporting
//! frequency — and KPI rows. Reading it back into terms is `sla_terms`.

use crate::accounts::pages::admin::Opt;
use crate::http::extract::Form;
use crate::http::page::LevelLabels;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::service_levels::pages::common::TargetInputs;
use crate::service_levels::pages::common::all_customers;
use crate::service_levels::pages::common::all_services;
use crate::service_levels::pages::common::all_users;
use crate::service_levels::pages::common::form_message;
use crate::service_levels::pages::common::opts;
use crate::service_levels::pages::common::today;
use crate::service_levels::pages::common::write_error;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::account::Role;
use custos_core::authz::Permission;
use custos_core::classification::{DIMENSIONS, Level};
use custos_core::sla::{Comparison, Metric, SlaStatus, SlaTerms};
use custos_core::sla_report::fmt_num;
use custos_core::{CiId, SlaId};

/// Empty KPI rows offered below the filled ones (there is no script to add rows).
const SPARE_KPI_ROWS: usize = 3;

pub struct LevelSelect {
    pub name: String,
    pub label: String,
    pub opts: Vec<Opt>,
}

pub struct KpiInput {
    pub n: usize,
    pub metrics: Vec<Opt>,
    pub comparisons: Vec<Opt>,
    pub target: String,
    pub how: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "service_levels/sla_form.html")]
struct FormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    name: String,
    customers: Vec<Opt>,
    services: Vec<Opt>,
    valid_from: String,
    valid_to: String,
    classification: Vec<LevelSelect>,
    targets: TargetInputs,
    requirements: String,
    categories: String,
    criteria: Vec<LevelSelect>,
    control_failures: bool,
    keywords: String,
    users: Vec<Opt>,
    roles: Vec<Opt>,
    asset_protection: String,
    copying_restrictions: String,
    reporting: Vec<Opt>,
    kpis: Vec<KpiInput>,
    error: Option<String>,
}

/// What the form shows, as text.
struct Values {
    name: String,
    customer: String,
    service: String,
    valid_from: String,
    valid_to: String,
    levels: Vec<String>,
    targets: TargetInputs,
    requirements: String,
    categories: String,
    criteria: Vec<String>,
    control_failures: bool,
    keywords: String,
    users: Vec<String>,
    roles: Vec<String>,
    asset_protection: String,
    copying_restrictions: String,
    reporting: String,
    /// (metric, comparison, target, how measured)
    kpis: Vec<(String, String, String, String)>,
}

fn values_of_form(f: &Form) -> Values {
    let g = |k: &str| f.get_or_empty(k).to_string();
    let all = |k: &str| f.all(k).into_iter().map(str::to_string).collect::<Vec<_>>();
    let (m, c, t, h) = (
        all("kpi_metric"),
        all("kpi_comparison"),
        all("kpi_target"),
        all("kpi_how"),
    );
    let at = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    Values {
        name: g("name"),
        customer: g("customer_id"),
        service: g("service_id"),
        valid_from: g("valid_from"),
        valid_to: g("valid_to"),
        levels: DIMENSIONS.iter().map(|d| g(d)).collect(),
        targets: TargetInputs::from_form(f),
        requirements: g("requirements"),
        categories: g("categories"),
        criteria: DIMENSIONS.iter().map(|d| g(&format!("crit_{d}"))).collect(),
        control_failures: f.checked("control_failures"),
        keywords: g("keywords"),
        users: all("authorised_users"),
        roles: all("authorised_roles"),
        asset_protection: g("asset_protection"),
        copying_restrictions: g("copying_restrictions"),
        reporting: g("reporting"),
        kpis: (0..m.len())
            .map(|i| (at(&m, i), at(&c, i), at(&t, i), at(&h, i)))
            .filter(|k| !(k.0.is_empty() && k.2.trim().is_empty() && k.3.trim().is_empty()))
            .collect(),
    }
}

async fn values_of_terms(state: &AppState, t: &SlaTerms) -> Result<Values, WebError> {
    let s = &t.security;
    let mut lines = vec![];
    for r in &s.requirements {
        let labels: Vec<String> =
            crate::service_levels::pages::common::control_refs(state, &r.controls)
                .await?
                .into_iter()
                .map(|c| c.label)
                .collect();
        lines.push(format!("{} | {} | {}", r.key, r.text, labels.join(", ")));
    }
    let crit = |d: &str| {
        s.incident_criteria
            .affected_levels
            .iter()
            .find(|c| c.dimension == d)
            .map(|c| c.at_least.as_str().to_string())
            .unwrap_or_default()
    };
    Ok(Values {
        name: t.name.clone(),
        customer: t.customer_id.to_string(),
        service: t.service_id.to_string(),
        valid_from: t.valid_from.as_str().into(),
        valid_to: t.valid_to.as_str().into(),
        levels: (0..3)
            .map(|i| {
                s.classification
                    .get(i)
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default()
            })
            .collect(),
        targets: TargetInputs::of(&t.targets),
        requirements: lines.join("\n"),
        categories: s.incident_criteria.categories.join(", "),
        criteria: DIMENSIONS.iter().map(|d| crit(d)).collect(),
        control_failures: s.incident_criteria.control_failures,
        keywords: s.incident_criteria.keywords.join(", "),
        users: s.authorised_users.iter().map(|u| u.to_string()).collect(),
        roles: s
            .authorised_roles
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        asset_protection: s.asset_protection.clone(),
        copying_restrictions: s.copying_restrictions.clone(),
        reporting: s.reporting.as_str().into(),
        kpis: t
            .kpis
            .iter()
            .map(|k| {
                (
                    k.metric.as_str().to_string(),
                    comparison_key(k.comparison).to_string(),
                    fmt_num(k.target),
                    k.measured_how.clone(),
                )
            })
            .collect(),
    })
}

fn comparison_key(c: Comparison) -> &'static str {
    match c {
        Comparison::AtLeast => "at_least",
        Comparison::AtMost => "at_most",
    }
}

async fn new_values(
    state: &AppState,
    customer: String,
    service: String,
) -> Result<Values, WebError> {
    let targets = match service.parse::<CiId>() {
        Ok(id) => state.store.service(id).await.map(|s| s.targets).ok(),
        Err(_) => None,
    }
    .unwrap_or_default();
    let t = today();
    let year: i32 = t.as_str()[0..4].parse().unwrap_or(2026);
    Ok(Values {
        name: String::new(),
        customer,
        service,
        valid_from: t.as_str().into(),
        valid_to: format!("{}-12-31", year + 1),
        levels: vec![String::new(); 3],
        targets: TargetInputs::of(&targets),
        requirements: String::new(),
        categories: String::new(),
        criteria: vec![String::new(); 3],
        control_failures: false,
        keywords: String::new(),
        users: vec![],
        roles: vec![],
        asset_protection: String::new(),
        copying_restrictions: String::new(),
        reporting: "monthly".into(),
        kpis: vec![],
    })
}

fn level_select(
    lv: &LevelLabels,
    name: String,
    label: String,
    current: &str,
    none: &str,
) -> LevelSelect {
    let mut opts = vec![Opt {
        value: String::new(),
        label: none.into(),
        selected: current.is_empty(),
    }];
    for l in [Level::Low, Level::Moderate, Level::High] {
        opts.push(Opt {
            value: l.as_str().into(),
            label: lv.get(l.as_str()).to_string(),
            selected: current == l.as_str(),
        });
    }
    LevelSelect { name, label, opts }
}

async fn form_page(
    state: &AppState,
    w: &WebUser,
    id: Option<SlaId>,
    v: Values,
    error: Option<String>,
) -> Result<FormPage, WebError> {
    let lv = LevelLabels::of(state);
    let customers = all_customers(state)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name));
    let services = all_services(state)
        .await?
        .into_iter()
        .map(|s| (s.ci_id.to_string(), s.name));
    let users = all_users(state)
        .await?
        .into_iter()
        .filter(|u| !u.disabled || v.users.contains(&u.id.to_string()))
        .map(|u| Opt {
            selected: v.users.contains(&u.id.to_string()),
            value: u.id.to_string(),
            label: format!("{} ({})", u.display_name, u.email),
        })
        .collect();
    let kpis: Vec<KpiInput> = v
        .kpis
        .iter()
        .chain(std::iter::repeat_n(&Default::default(), SPARE_KPI_ROWS))
        .enumerate()
        .map(|(i, (m, c, t, h))| {
            let mut metrics = vec![Opt {
                value: String::new(),
                label: "— none —".into(),
                selected: m.is_empty(),
            }];
            metrics.extend(Metric::ALL.iter().map(|x| Opt {
                value: x.as_str().into(),
                label: x.label().into(),
                selected: x.as_str() == m,
            }));
            KpiInput {
                n: i + 1,
                metrics,
                comparisons: opts(
                    [
                        ("at_least".to_string(), "at least (≥)".to_string()),
                        ("at_most".to_string(), "at most (≤)".to_string()),
                    ],
                    c,
                ),
                target: t.clone(),
                how: h.clone(),
            }
        })
        .collect();
    Ok(FormPage {
        title: if id.is_some() {
            format!("Edit draft SLA: {}", v.name)
        } else {
            "New SLA (draft)".into()
        },
        nav: Some(Nav::new(w, "/slas")),
        csrf: w.session.csrf_token.clone(),
        id: id.map(|i| i.to_string()),
        customers: opts(customers, &v.customer),
        services: opts(services, &v.service),
        classification: DIMENSIONS
            .iter()
            .zip(&v.levels)
            .map(|(d, cur)| level_select(&lv, d.to_string(), capitalise(d), cur, "not set"))
            .collect(),
        criteria: DIMENSIONS
            .iter()
            .zip(&v.criteria)
            .map(|(d, cur)| {
                level_select(
                    &lv,
                    format!("crit_{d}"),
                    format!("An affected CI's {d} is at least"),
                    cur,
                    "no condition",
                )
            })
            .collect(),
        users,
        roles: Role::ALL
            .iter()
            .map(|r| Opt {
                value: r.as_str().into(),
                label: r.label().into(),
                selected: v.roles.iter().any(|x| x == r.as_str()),
            })
            .collect(),
        reporting: opts(
            [
                ("monthly".to_string(), "monthly".to_string()),
                ("quarterly".to_string(), "quarterly".to_string()),
            ],
            &v.reporting,
        ),
        kpis,
        name: v.name,
        valid_from: v.valid_from,
        valid_to: v.valid_to,
        targets: v.targets,
        requirements: v.requirements,
        categories: v.categories,
        control_failures: v.control_failures,
        keywords: v.keywords,
        asset_protection: v.asset_protection,
        copying_restrictions: v.copying_restrictions,
        error,
    })
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub async fn new_form(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let q = crate::http::page::query_map(raw);
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let v = new_values(&state, get("customer"), get("service")).await?;
    Ok(form_page(&state, &w, None, v, None).await?.into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    let s = state.store.sla(crate::http::page::path_id(&id)?).await?;
    if s.status != SlaStatus::Draft {
        let msg = "Only a draft can be edited. To change an agreed SLA, start a new version.";
        let page =
            crate::service_levels::pages::slas::sla_page(&state, &w, s, Some(msg.into())).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let v = values_of_terms(&state, &s.terms).await?;
    Ok(form_page(&state, &w, Some(s.id), v, None)
        .await?
        .into_response())
}

async fn save(
    state: &AppState,
    w: &WebUser,
    id: Option<SlaId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageServiceLevels)?;
    check_csrf(form, &w.session)?;
    if let Some(id) = id {
        state.store.sla(id).await?;
    }
    let mut origins = crate::service_levels::pages::sla_terms::Origins::default();
    let result = async {
        let terms =
            crate::service_levels::pages::sla_terms::parse_terms(state, form, &mut origins).await?;
        match id {
            Some(id) => state.store.update_sla(&actor, id, terms).await,
            None => state.store.create_sla(&actor, terms).await,
        }
        .map_err(write_error)
    }
    .await;
    match result {
        Ok(s) => Ok(see_other(&format!("/slas/{}", s.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let msg = form_message(&e, |f| {
                crate::service_levels::pages::sla_terms::label(f, &origins)
            });
            let page = form_page(state, w, id, values_of_form(form), Some(msg)).await?;
            let status = if e.status() == StatusCode::CONFLICT {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save(&state, &w, None, &form).await
}

pub async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    w.require(Permission::ManageServiceLevels)?;
    save(&state, &w, Some(crate::http::page::path_id(&id)?), &form).await
}
