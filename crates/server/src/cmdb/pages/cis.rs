//! CMDB pages: search and list, a CI with its classification (and where each level comes
//! from), relationships, a dependency diagram, impact analysis; forms to maintain them.

use crate::accounts::pages::admin::Opt;
use crate::cmdb::ClassificationOut;
use crate::cmdb::ImpactOut;
use crate::cmdb::impact_depth;
use crate::cmdb::provenance;
use crate::cmdb::run_impact;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::LevelLabels;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::classification::{Classification, Level};
use custos_core::cmdb::{CiInput, Direction, Lifecycle, RelType};
use custos_core::page::PageRequest;
use custos_core::store::{CiFilter, CiRecord, RelationshipView};
use custos_core::{CiId, DepartmentId, RelationshipId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cmdb", get(list).post(create))
        .route("/cmdb/new", get(new_form))
        .route("/cmdb/{id}", get(show).post(update))
        .route("/cmdb/{id}/edit", get(edit_form))
        .route("/cmdb/{id}/delete", post(delete))
        .route("/cmdb/{id}/classification", post(classify))
        .route("/cmdb/{id}/relationships", post(add_relationship))
        .route(
            "/cmdb/{id}/relationships/{rel}/delete",
            post(delete_relationship),
        )
        .route("/cmdb/{id}/impact", get(impact))
}

/// A C/I/A badge.
pub struct Badge {
    pub letter: &'static str,
    pub level: &'static str,
}

fn badges(r: &CiRecord) -> Vec<Badge> {
    ["C", "I", "A"]
        .iter()
        .zip(r.effective.iter())
        .map(|(l, d)| Badge {
            letter: l,
            level: d.level.as_str(),
        })
        .collect()
}

pub struct CiRow {
    pub id: String,
    pub name: String,
    pub ci_type: String,
    pub status: &'static str,
    pub external_key: String,
    pub badges: Vec<Badge>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb/list.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    lv: LevelLabels,
    q: String,
    types: Vec<Opt>,
    statuses: Vec<Opt>,
    rows: Vec<CiRow>,
    next: Option<String>,
    can_manage: bool,
    error: Option<String>,
}

async fn type_opts(state: &AppState, selected: &str) -> Result<Vec<Opt>, WebError> {
    Ok(state
        .store
        .list_ci_types()
        .await?
        .into_iter()
        .map(|t| Opt {
            selected: t.name == selected,
            value: t.name,
            label: t.label,
        })
        .collect())
}

fn status_opts(selected: &str) -> Vec<Opt> {
    ["planned", "active", "retired"]
        .iter()
        .map(|s| Opt {
            value: (*s).into(),
            label: (*s).into(),
            selected: *s == selected,
        })
        .collect()
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let q = crate::http::page::query_map(raw);
    let get = |k: &str| {
        q.get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut error = None;
    let status = match get("status").as_str() {
        "" => None,
        s => match Lifecycle::parse(s) {
            Ok(l) => Some(l),
            Err(e) => {
                error = Some(e.message);
                None
            }
        },
    };
    let filter = CiFilter {
        ci_type: Some(get("ci_type")).filter(|s| !s.is_empty()),
        status,
        q: Some(get("q")).filter(|s| !s.is_empty()),
    };
    let cursor = q.get("cursor").and_then(|c| uuid::Uuid::parse_str(c).ok());
    let page = state
        .store
        .list_cis(&filter, PageRequest::new(Some(50), cursor))
        .await?;
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for k in ["q", "ci_type", "status"] {
            if !get(k).is_empty() {
                s.append_pair(k, &get(k));
            }
        }
        s.append_pair("cursor", &c.to_string());
        s.finish()
    });
    Ok(ListPage {
        lv: LevelLabels::of(&state),
        title: "Configuration items".into(),
        nav: Some(Nav::new(&w, "/cmdb")),
        q: get("q"),
        types: type_opts(&state, &get("ci_type")).await?,
        statuses: status_opts(&get("status")),
        rows: page
            .items
            .iter()
            .map(|r| CiRow {
                id: r.ci.id.to_string(),
                name: r.ci.name.clone(),
                ci_type: r.ci.ci_type.clone(),
                status: r.ci.status.as_str(),
                external_key: r.ci.external_key.clone().unwrap_or_default(),
                badges: badges(r),
            })
            .collect(),
        next,
        can_manage: w.principal.has(Permission::ManageCmdb),
        error,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb/ci_form.html")]
struct FormPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: Option<String>,
    name: String,
    external_key: String,
    attributes: String,
    types: Vec<Opt>,
    statuses: Vec<Opt>,
    departments: Vec<Opt>,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    w: &WebUser,
    id: Option<String>,
    form: Option<&Form>,
    r: Option<&CiRecord>,
    error: Option<String>,
) -> Result<FormPage, WebError> {
    let pick = |k: &str, from_ci: String| {
        form.map(|f| f.get_or_empty(k).to_string())
            .unwrap_or(from_ci)
    };
    let ci_type = pick(
        "ci_type",
        r.map(|r| r.ci.ci_type.clone())
            .unwrap_or_else(|| "server".into()),
    );
    let status = pick(
        "status",
        r.map(|r| r.ci.status.as_str().to_string())
            .unwrap_or_else(|| "active".into()),
    );
    let dept = pick(
        "department_id",
        r.and_then(|r| r.ci.department_id)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let depts = state
        .store
        .list_departments(PageRequest::first(500))
        .await?
        .items;
    Ok(FormPage {
        title: if id.is_some() {
            "Edit configuration item".into()
        } else {
            "New configuration item".into()
        },
        nav: Some(Nav::new(w, "/cmdb")),
        csrf: w.session.csrf_token.clone(),
        name: pick("name", r.map(|r| r.ci.name.clone()).unwrap_or_default()),
        external_key: pick(
            "external_key",
            r.and_then(|r| r.ci.external_key.clone())
                .unwrap_or_default(),
        ),
        attributes: pick(
            "attributes",
            r.map(|r| serde_json::to_string_pretty(&r.ci.attributes).unwrap_or_default())
                .unwrap_or_else(|| "{}".into()),
        ),
        types: type_opts(state, &ci_type).await?,
        statuses: status_opts(&status),
        departments: depts
            .iter()
            .map(|d| Opt {
                value: d.id.to_string(),
                label: d.name.clone(),
                selected: d.id.to_string() == dept,
            })
            .collect(),
        id,
        error,
    })
}

async fn new_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageCmdb)?;
    Ok(form_page(&state, &w, None, None, None, None)
        .await?
        .into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ManageCmdb)?;
    let r = state
        .store
        .ci(crate::http::page::path_id::<CiId>(&id)?)
        .await?;
    Ok(form_page(&state, &w, Some(id), None, Some(&r), None)
        .await?
        .into_response())
}

fn form_input(form: &Form) -> Result<CiInput, ApiError> {
    let attrs = match form.get_or_empty("attributes").trim() {
        "" => serde_json::json!({}),
        t => serde_json::from_str(t)
            .map_err(|e| ApiError::validation("attributes", format!("is not valid JSON: {e}")))?,
    };
    let mut input = CiInput::new(
        form.get_or_empty("ci_type"),
        form.get_or_empty("name"),
        form.get("external_key"),
        Lifecycle::parse(form.get_or_empty("status"))?,
        attrs,
    )?;
    input.department_id = match form.get_or_empty("department_id") {
        "" => None,
        d => Some(
            d.parse::<DepartmentId>()
                .map_err(|_| ApiError::validation("department_id", "is not a department"))?,
        ),
    };
    Ok(input)
}

async fn save(
    state: &AppState,
    w: &WebUser,
    id: Option<CiId>,
    form: &Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCmdb)?;
    check_csrf(form, &w.session)?;
    let result = async {
        let input = form_input(form)?;
        Ok::<CiRecord, ApiError>(match id {
            Some(id) => state.store.update_ci(&actor, id, input).await?,
            None => state.store.create_ci(&actor, input).await?,
        })
    }
    .await;
    match result {
        Ok(r) => Ok(see_other(&format!("/cmdb/{}", r.ci.id))),
        Err(e) if crate::http::page::correctable(&e) => {
            let detail = match e {
                ApiError::Conflict(_) => {
                    "The external key is taken, or the type or department does not exist."
                        .to_string()
                }
                other => other.problem().detail,
            };
            let page = form_page(
                state,
                w,
                id.map(|i| i.to_string()),
                Some(form),
                None,
                Some(detail),
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    save(&state, &w, None, &form).await
}

async fn update(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    save(
        &state,
        &w,
        Some(crate::http::page::path_id::<CiId>(&id)?),
        &form,
    )
    .await
}

async fn delete(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCmdb)?;
    check_csrf(&form, &w.session)?;
    state
        .store
        .delete_ci(&actor, crate::http::page::path_id::<CiId>(&id)?)
        .await?;
    Ok(see_other("/cmdb"))
}

/// A box in the dependency diagram.
pub struct Node {
    pub id: String,
    pub name: String,
    pub label: String,
    pub x: i32,
    pub y: i32,
    /// Where the connecting line meets the box.
    pub lx: i32,
    pub ly: i32,
}

pub struct Diagram {
    pub width: i32,
    pub height: i32,
    pub center: Node,
    pub nodes: Vec<Node>,
    pub more: usize,
}

const BOX_W: i32 = 220;
const ROW: i32 = 48;
const SHOWN: usize = 12;

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Dependents on the left, dependencies on the right, network links below the centre.
fn diagram(r: &CiRecord, rels: &[RelationshipView]) -> Diagram {
    let me = r.ci.id;
    let (mut left, mut right) = (vec![], vec![]);
    for v in rels {
        let (other, name, is_source) = if v.rel.source_id == me {
            (v.rel.target_id, &v.target_name, true)
        } else {
            (v.rel.source_id, &v.source_name, false)
        };
        let label = if is_source {
            v.rel.rel_type.label().to_string()
        } else {
            format!("{} this", v.rel.rel_type.label())
        };
        match v.rel.rel_type.dependency(v.rel.source_id, v.rel.target_id) {
            Some((dependent, _)) if dependent == me => right.push((other, name.clone(), label)),
            Some(_) => left.push((other, name.clone(), label)),
            None => right.push((other, name.clone(), label)),
        }
    }
    let more = left.len().saturating_sub(SHOWN) + right.len().saturating_sub(SHOWN);
    left.truncate(SHOWN);
    right.truncate(SHOWN);
    let rows = left.len().max(right.len()).max(1) as i32;
    let height = rows * ROW + 24;
    let cy = height / 2 - 18;
    let center = Node {
        id: me.to_string(),
        name: truncate(&r.ci.name, 26),
        label: r.ci.ci_type.clone(),
        x: 300,
        y: cy,
        lx: 300,
        ly: cy + 18,
    };
    let mut nodes = vec![];
    for (col, list) in [(10, &left), (590, &right)] {
        let offset = (height - list.len() as i32 * ROW) / 2;
        for (i, (id, name, label)) in list.iter().enumerate() {
            let y = offset + i as i32 * ROW + 6;
            let lx = if col == 10 { col + BOX_W } else { col };
            nodes.push(Node {
                id: id.to_string(),
                name: truncate(name, 26),
                label: label.clone(),
                x: col,
                y,
                lx,
                ly: y + 18,
            });
        }
    }
    Diagram {
        width: 820,
        height,
        center,
        nodes,
        more,
    }
}

pub struct RelRow {
    pub id: String,
    pub other_id: String,
    pub other_name: String,
    pub other_type: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb/ci.html")]
struct ShowPage {
    title: String,
    nav: Option<Nav>,
    lv: LevelLabels,
    csrf: String,
    id: String,
    ci_type: String,
    status: &'static str,
    external_key: String,
    department: String,
    attributes: Vec<(String, String)>,
    cls: ClassificationOut,
    badges: Vec<Badge>,
    relationships: Vec<RelRow>,
    diagram: Diagram,
    rel_types: Vec<Opt>,
    level_opts: Vec<(String, Vec<Opt>)>,
    can_manage: bool,
    can_classify: bool,
    /// For a business service: its catalogue entry (or the form to add one), with a label.
    service_link: Option<(String, &'static str)>,
    error: Option<String>,
}

fn level_options(lv: &LevelLabels, current: Option<Level>) -> Vec<Opt> {
    let mut v = vec![Opt {
        value: String::new(),
        label: "not set".into(),
        selected: current.is_none(),
    }];
    for l in [Level::Low, Level::Moderate, Level::High] {
        v.push(Opt {
            value: l.as_str().into(),
            label: lv.get(l.as_str()).to_string(),
            selected: current == Some(l),
        });
    }
    v
}

async fn show_page(
    state: &AppState,
    w: &WebUser,
    id: CiId,
    error: Option<String>,
) -> Result<ShowPage, WebError> {
    let r = state.store.ci(id).await?;
    let cls = provenance(state.store.as_ref(), &r).await?;
    let rels = state
        .store
        .list_relationships(Some(id), PageRequest::first(500))
        .await?
        .items;
    let department = match r.ci.department_id {
        Some(d) => state
            .store
            .department(d)
            .await
            .map(|d| d.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let attributes =
        r.ci.attributes
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
    let relationships = rels
        .iter()
        .map(|v| {
            let outgoing = v.rel.source_id == id;
            RelRow {
                id: v.rel.id.to_string(),
                other_id: if outgoing {
                    v.rel.target_id
                } else {
                    v.rel.source_id
                }
                .to_string(),
                other_name: if outgoing {
                    v.target_name.clone()
                } else {
                    v.source_name.clone()
                },
                other_type: if outgoing {
                    v.target_type.clone()
                } else {
                    v.source_type.clone()
                },
                text: if outgoing {
                    format!("This {}", v.rel.rel_type.label())
                } else {
                    format!("{} this", v.rel.rel_type.label())
                },
            }
        })
        .collect();
    let explicit = r.ci.explicit;
    let lv = LevelLabels::of(state);
    let service_link = if r.ci.ci_type == "business_service" {
        match state.store.service(id).await {
            Ok(_) if w.principal.has(Permission::ReadServiceLevels) => {
                Some((format!("/services/{id}"), "Service catalogue entry"))
            }
            Err(custos_core::StoreError::NotFound { .. })
                if w.principal.has(Permission::ManageServiceLevels) =>
            {
                Some((
                    format!("/services/{id}/edit"),
                    "Add to the service catalogue",
                ))
            }
            Ok(_) | Err(custos_core::StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    Ok(ShowPage {
        lv: lv.clone(),
        title: r.ci.name.clone(),
        nav: Some(Nav::new(w, "/cmdb")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        ci_type: r.ci.ci_type.clone(),
        status: r.ci.status.as_str(),
        external_key: r.ci.external_key.clone().unwrap_or_default(),
        department,
        attributes,
        badges: badges(&r),
        diagram: diagram(&r, &rels),
        relationships,
        cls,
        rel_types: RelType::ALL
            .iter()
            .map(|t| Opt {
                value: t.as_str().into(),
                label: t.label().into(),
                selected: *t == RelType::DependsOn,
            })
            .collect(),
        level_opts: vec![
            (
                "confidentiality".into(),
                level_options(&lv, explicit.confidentiality),
            ),
            ("integrity".into(), level_options(&lv, explicit.integrity)),
            (
                "availability".into(),
                level_options(&lv, explicit.availability),
            ),
        ],
        can_manage: w.principal.has(Permission::ManageCmdb),
        can_classify: w.principal.has(Permission::ClassifyCis),
        service_link,
        error,
    })
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    Ok(
        show_page(&state, &w, crate::http::page::path_id::<CiId>(&id)?, None)
            .await?
            .into_response(),
    )
}

async fn rejected(
    state: &AppState,
    w: &WebUser,
    id: CiId,
    e: ApiError,
) -> Result<Response, WebError> {
    if crate::http::page::correctable(&e) {
        let page = show_page(state, w, id, Some(e.problem().detail)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    Err(e.into())
}

async fn classify(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ClassifyCis)?;
    check_csrf(&form, &w.session)?;
    let id = crate::http::page::path_id::<CiId>(&id)?;
    let result = async {
        let p = |k: &str| match form.get_or_empty(k) {
            "" => Ok(None),
            v => Level::parse(k, v).map(Some),
        };
        let levels = Classification {
            confidentiality: p("confidentiality")?,
            integrity: p("integrity")?,
            availability: p("availability")?,
        };
        let justification =
            custos_core::account::clean_text(form.get_or_empty("justification"), 2000);
        if justification.is_empty() && !levels.is_empty() {
            return Err(ApiError::validation(
                "justification",
                "is required when setting a classification",
            ));
        }
        state
            .store
            .set_classification(&actor, id, levels, &justification)
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/cmdb/{id}"))),
        Err(e) => rejected(&state, &w, id, e).await,
    }
}

async fn add_relationship(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCmdb)?;
    check_csrf(&form, &w.session)?;
    let id = crate::http::page::path_id::<CiId>(&id)?;
    let result = async {
        let rel_type = RelType::parse(form.get_or_empty("rel_type"))?;
        let other_key = form.get_or_empty("other").trim();
        let other = match other_key.parse::<CiId>() {
            Ok(o) => o,
            Err(_) => match state.store.ci_by_key(other_key).await {
                Ok(r) => r.ci.id,
                Err(custos_core::StoreError::NotFound { .. }) => {
                    return Err(ApiError::validation(
                        "other",
                        "no CI has this external key or id",
                    ));
                }
                Err(e) => return Err(e.into()),
            },
        };
        let (source, target) = if form.get_or_empty("direction") == "incoming" {
            (other, id)
        } else {
            (id, other)
        };
        state
            .store
            .add_relationship(&actor, source, target, rel_type)
            .await
            .map_err(|e| match e {
                custos_core::StoreError::Conflict { .. } => {
                    ApiError::Conflict("this relationship exists already".into())
                }
                custos_core::StoreError::NotFound { .. } => {
                    ApiError::validation("other", "no such CI")
                }
                other => other.into(),
            })?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/cmdb/{id}"))),
        Err(e) => rejected(&state, &w, id, e).await,
    }
}

async fn delete_relationship(
    State(state): State<AppState>,
    w: WebUser,
    Path((id, rel)): Path<(String, String)>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCmdb)?;
    check_csrf(&form, &w.session)?;
    let rel: RelationshipId = crate::http::page::path_id(&rel)?;
    state.store.delete_relationship(&actor, rel).await?;
    Ok(see_other(&format!(
        "/cmdb/{}",
        crate::http::page::path_id::<CiId>(&id)?
    )))
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb/impact.html")]
struct ImpactPage {
    title: String,
    nav: Option<Nav>,
    id: String,
    upstream: bool,
    depth: u32,
    result: ImpactOut,
}

async fn impact(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let q = crate::http::page::query_map(raw);
    let direction = Direction::parse(q.get("direction").map(String::as_str).unwrap_or("upstream"))
        .map_err(ApiError::from)?;
    let depth = impact_depth(q.get("depth").and_then(|d| d.parse().ok()))?;
    let origin = state
        .store
        .ci(crate::http::page::path_id::<CiId>(&id)?)
        .await?;
    let result = run_impact(state.store.as_ref(), &origin, direction, depth).await?;
    Ok(ImpactPage {
        title: format!("Impact of {}", origin.ci.name),
        nav: Some(Nav::new(&w, "/cmdb")),
        id,
        upstream: direction == Direction::Upstream,
        depth,
        result,
    }
    .into_response())
}
