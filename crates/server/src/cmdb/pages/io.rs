//! CMDB import and export pages (CSV or JSON files).

use crate::http::page::Nav;

use crate::http::page::WebError;

use crate::http::page::WebUser;

use crate::cmdb::io::ImportReport;
use crate::cmdb::io::MAX_IMPORT;
use crate::cmdb::io::export_data;
use crate::cmdb::io::import_bytes;
use crate::http::page::check_csrf;
use crate::http::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_core::authz::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/cmdb/import",
            get(form)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_IMPORT)),
        )
        .route("/cmdb/export", get(export))
}

#[derive(Template, WebTemplate)]
#[template(path = "cmdb/import.html")]
struct Page {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    can_import: bool,
    report: Option<ImportReport>,
    error: Option<String>,
}

fn page(w: &WebUser, report: Option<ImportReport>, error: Option<String>) -> Page {
    Page {
        title: "Import and export".into(),
        nav: Some(Nav::new(w, "/cmdb")),
        csrf: w.session.csrf_token.clone(),
        can_import: w.principal.has(Permission::ManageCmdb),
        report,
        error,
    }
}

async fn form(w: WebUser) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    Ok(page(&w, None, None).into_response())
}

async fn upload(
    State(state): State<AppState>,
    w: WebUser,
    req: axum::extract::Request,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::ManageCmdb)?;
    let (fields, upload) = crate::http::page::read_upload(req, &state, "file").await?;
    check_csrf(&fields, &w.session)?;
    let (name, file) = match upload {
        Some(f) => (f.name.to_lowercase(), Some(f.bytes)),
        None => (String::new(), None),
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            page(&w, None, Some("Choose a CSV or JSON file.".into())),
        )
            .into_response());
    };
    let is_json = name.ends_with(".json") || bytes.first() == Some(&b'{');
    match import_bytes(state.store.as_ref(), &actor, &bytes, is_json).await {
        Ok(r) => Ok(page(&w, Some(r), None).into_response()),
        Err(e) if crate::http::page::correctable(&e) => Ok((
            StatusCode::BAD_REQUEST,
            page(&w, None, Some(crate::http::page::Refusal::detail(&e))),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn export(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::ReadCmdb)?;
    let q: std::collections::HashMap<String, String> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let kind = q.get("kind").map(String::as_str).unwrap_or("cis");
    let json = q.get("format").map(String::as_str) == Some("json");
    let body = export_data(state.store.as_ref(), kind, json).await?;
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
                format!("attachment; filename=\"custos-{kind}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}
