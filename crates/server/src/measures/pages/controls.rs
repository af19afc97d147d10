//! Control catalogue pages: browse and search controls by catalog, baseline and family; a
//! control's text and function; import OSCAL documents; write organisation procedures.

use crate::accounts::pages::admin::Opt;
use crate::http::error::ApiError;
use crate::http::extract::Form;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::state::AppState;
use crate::measures::controls::{ControlParams, ImportOut, MAX_DOCUMENT, import};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::authz::Permission;
use custos_core::controls::control_spec;
use custos_core::controls::{Control, Function};
use custos_core::page::PageRequest;
use custos_core::{CatalogId, ControlId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/controls", get(list).post(create))
        .route("/controls/new", get(new_form))
        .route(
            "/controls/import",
            get(import_form)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(MAX_DOCUMENT)),
        )
        .route("/controls/{id}", get(show))
        .route("/controls/{id}/function", post(set_function))
}

pub struct Row {
    pub id: String,
    pub label: String,
    pub title: String,
    pub family: String,
    pub function: &'static str,
    pub enhancement: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/controls.html")]
struct ListPage {
    title: String,
    nav: Option<Nav>,
    catalogs: Vec<Opt>,
    baselines: Vec<Opt>,
    family: String,
    q: String,
    rows: Vec<Row>,
    next: Option<String>,
    can_manage: bool,
    summary: Vec<(String, String, i64)>,
}

async fn list(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadControls)?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let q: ControlParams =
        serde_urlencoded::from_str(&encoded).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let page = state
        .store
        .list_controls(&q.filter(), PageRequest::new(Some(100), q.cursor))
        .await?;
    let catalogs = state.store.list_catalogs().await?;
    let baselines = state.store.list_baselines().await?;
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| k != "cursor") {
            s.append_pair(k, v);
        }
        s.append_pair("cursor", &c.to_string());
        s.finish()
    });
    Ok(ListPage {
        title: "Control catalogue".into(),
        nav: Some(Nav::new(&w, "/controls")),
        summary: catalogs
            .iter()
            .map(|c| (c.title.clone(), c.source.clone(), c.controls))
            .collect(),
        catalogs: catalogs
            .iter()
            .map(|c| Opt {
                value: c.id.to_string(),
                label: c.title.clone(),
                selected: q.catalog_id == Some(c.id.0),
            })
            .collect(),
        baselines: baselines
            .iter()
            .map(|b| Opt {
                value: b.id.to_string(),
                label: format!("{} ({} controls)", b.name, b.controls),
                selected: q.baseline_id == Some(b.id.0),
            })
            .collect(),
        family: q.family.clone().unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        rows: page
            .items
            .iter()
            .map(|c: &Control| Row {
                id: c.id.to_string(),
                label: c.spec.label.clone(),
                title: c.spec.title.clone(),
                family: c.spec.family.clone(),
                function: c.spec.function.as_str(),
                enhancement: c.spec.parent.is_some(),
            })
            .collect(),
        next,
        can_manage: w.principal.has(Permission::ManageControls),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/control.html")]
struct ShowPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    control: Control,
    catalog: String,
    functions: Vec<Opt>,
    can_manage: bool,
}

async fn show(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    w.require(Permission::ReadControls)?;
    let id: ControlId = crate::http::page::path_id(&id)?;
    let c = state.store.control(id).await?;
    let catalog = state
        .store
        .list_catalogs()
        .await?
        .into_iter()
        .find(|k| k.id == c.catalog_id)
        .map(|k| k.title)
        .unwrap_or_default();
    Ok(ShowPage {
        title: format!("{} {}", c.spec.label, c.spec.title),
        nav: Some(Nav::new(&w, "/controls")),
        csrf: w.session.csrf_token.clone(),
        id: id.to_string(),
        functions: ["preventive", "detective", "corrective"]
            .iter()
            .map(|f| Opt {
                value: (*f).into(),
                label: (*f).into(),
                selected: *f == c.spec.function.as_str(),
            })
            .collect(),
        control: c,
        catalog,
        can_manage: w.principal.has(Permission::ManageControls),
    }
    .into_response())
}

async fn set_function(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageControls)?;
    check_csrf(&form, &w.session)?;
    let id: ControlId = crate::http::page::path_id(&id)?;
    let f = Function::parse(form.get_or_empty("function")).map_err(ApiError::from)?;
    state.store.set_control_function(&actor, id, f).await?;
    Ok(see_other(&format!("/controls/{id}")))
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/control_import.html")]
struct ImportPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    catalogs: Vec<Opt>,
    result: Option<ImportOut>,
    error: Option<String>,
}

async fn import_page(
    state: &AppState,
    w: &WebUser,
    result: Option<ImportOut>,
    error: Option<String>,
) -> Result<ImportPage, WebError> {
    Ok(ImportPage {
        title: "Import an OSCAL catalog or profile".into(),
        nav: Some(Nav::new(w, "/controls")),
        csrf: w.session.csrf_token.clone(),
        catalogs: state
            .store
            .list_catalogs()
            .await?
            .into_iter()
            .map(|c| Opt {
                value: c.id.to_string(),
                label: c.title,
                selected: false,
            })
            .collect(),
        result,
        error,
    })
}

async fn import_form(State(state): State<AppState>, w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageControls)?;
    Ok(import_page(&state, &w, None, None).await?.into_response())
}

async fn import_upload(
    State(state): State<AppState>,
    w: WebUser,
    req: axum::extract::Request,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageControls)?;
    // Read the body only after the permission check, so refusals are 403 whatever was sent.
    let (fields, upload) = crate::http::page::read_upload(req, &state, "document").await?;
    check_csrf(&fields, &w.session)?;
    let catalog = fields.get_or_empty("catalog_id").to_string();
    let file = upload.map(|f| f.bytes);
    let outcome = async {
        let bytes = file
            .filter(|b| !b.is_empty())
            .ok_or_else(|| custos_core::Error::validation("document", "choose a file"))?;
        let doc: serde_json::Value = crate::http::extract::parse_json(&bytes)?;
        let catalog =
            match catalog.as_str() {
                "" => None,
                c => Some(c.parse::<CatalogId>().map_err(|_| {
                    custos_core::Error::validation("catalog_id", "is not a catalog")
                })?),
            };
        import(state.store.as_ref(), &actor, &doc, catalog).await
    }
    .await;
    match outcome {
        Ok(r) => Ok(import_page(&state, &w, Some(r), None)
            .await?
            .into_response()),
        Err(e) if crate::http::page::correctable(&e) => {
            let page = import_page(
                &state,
                &w,
                None,
                Some(crate::http::page::Refusal::detail(&e)),
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "measures/control_form.html")]
struct NewPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    form_id: String,
    form_title: String,
    statement: String,
    guidance: String,
    functions: Vec<Opt>,
    error: Option<String>,
}

fn new_page(w: &WebUser, form: Option<&Form>, error: Option<String>) -> NewPage {
    let get = |k: &str| {
        form.map(|f| f.get_or_empty(k).to_string())
            .unwrap_or_default()
    };
    let f = get("function");
    NewPage {
        title: "New organisation control".into(),
        nav: Some(Nav::new(w, "/controls")),
        csrf: w.session.csrf_token.clone(),
        form_id: get("control_id"),
        form_title: get("title"),
        statement: get("statement"),
        guidance: get("guidance"),
        functions: ["preventive", "detective", "corrective"]
            .iter()
            .map(|x| Opt {
                value: (*x).into(),
                label: (*x).into(),
                selected: *x == f,
            })
            .collect(),
        error,
    }
}

async fn new_form(w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ManageControls)?;
    Ok(new_page(&w, None, None).into_response())
}

async fn create(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageControls)?;
    check_csrf(&form, &w.session)?;
    let result = async {
        let spec = control_spec(
            form.get_or_empty("control_id"),
            form.get_or_empty("title"),
            form.get_or_empty("statement"),
            form.get_or_empty("guidance"),
            form.get_or_empty("function"),
            Some("org"),
        )?;
        state
            .store
            .create_control(&actor, spec)
            .await
            .map_err(|e| match e {
                custos_core::StoreError::Conflict { .. } => {
                    ApiError::Conflict("a control with this id exists".into())
                }
                other => other.into(),
            })
    }
    .await;
    match result {
        Ok(c) => Ok(see_other(&format!("/controls/{}", c.id))),
        Err(e) if crate::http::page::correctable(&e) => Ok((
            StatusCode::BAD_REQUEST,
            new_page(&w, Some(&form), Some(e.problem().detail)),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
