//! The server-rendered web UI. Pages are askama templates (escaped by default); every form
//! carries a CSRF token bound to the session (or, before login, to a short-lived cookie);
//! there is no JavaScript.

use crate::http::auth::SESSION_COOKIE;

use crate::http::auth::current_session;

use crate::http::auth::principal_of;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use custos_core::Timestamp;
use custos_core::authz::{Permission, Principal};
use custos_core::secret::constant_time_eq;
use custos_core::store::{SessionRecord, SessionStage};

static APP_CSS: &str = include_str!("../../static/app.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/static/app.css", get(css))
        .merge(sections())
        .merge(crate::accounts::pages::router())
        .merge(crate::notifications::pages::router())
        .merge(crate::audit::pages::router())
        .merge(crate::cmdb::pages::router())
        .merge(crate::measures::pages::router())
        .merge(crate::service_levels::pages::router())
        .merge(crate::problems::pages::router())
        .merge(crate::incidents::pages::router())
        .merge(crate::announcements::pages::router())
}

async fn css() -> Response {
    let mut r = ([(CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response();
    r.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

use crate::http::nav::{Entry, SECTIONS, Section};
pub use crate::http::nav::{Nav, NavLink};

impl Nav {
    /// The navigation as `w` sees it on the page at `current`.
    pub fn new(w: &WebUser, current: &str) -> Self {
        Nav::of(&w.principal, w.session.csrf_token.clone(), current)
    }
}

/// The group pages.
fn sections() -> Router<AppState> {
    SECTIONS.iter().fold(Router::new(), |r, s| {
        r.route(s.href, get(move |w: WebUser| section_page(w, s)))
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "section.html")]
struct SectionPage {
    title: String,
    nav: Option<Nav>,
    about: &'static str,
    entries: Vec<&'static Entry>,
}

/// A group's page: its pages the user may open, each with what it is for.
async fn section_page(w: WebUser, s: &'static Section) -> Result<Response, WebError> {
    let entries: Vec<&'static Entry> = s.entries_for(&w.principal).collect();
    if entries.is_empty() {
        return Err(WebError::Forbidden);
    }
    Ok(SectionPage {
        title: s.label.into(),
        nav: Some(Nav::new(&w, s.href)),
        about: s.about,
        entries,
    }
    .into_response())
}

/// A fully signed-in browser user. Pages that take it redirect everyone else to sign-in
/// (or to the missing sign-in step).
pub struct WebUser {
    pub principal: Principal,
    pub session: SessionRecord,
}

impl WebUser {
    pub fn require(&self, p: Permission) -> Result<custos_core::authz::Actor, WebError> {
        self.principal.require(p).map_err(|_| WebError::Forbidden)
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (_, session) = current_session(parts, state.store.as_ref(), Timestamp::now())
            .await?
            .ok_or(WebError::Redirect("/login"))?;
        match session.stage {
            // A department that starts requiring MFA reaches existing sessions at once.
            SessionStage::Full if session.profile.mfa_required && !session.user.mfa_enabled => {
                Err(WebError::Redirect("/account/mfa"))
            }
            SessionStage::Full => Ok(WebUser {
                principal: principal_of(&session),
                session,
            }),
            SessionStage::NeedsTotp => Err(WebError::Redirect("/login/totp")),
            SessionStage::NeedsEnrolment => Err(WebError::Redirect("/account/mfa")),
        }
    }
}

/// Any live session, whatever its sign-in stage (the TOTP and enrolment steps use it).
pub struct AnySession(pub SessionRecord);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (_, s) = current_session(parts, state.store.as_ref(), Timestamp::now())
            .await?
            .ok_or(WebError::Redirect("/login"))?;
        Ok(AnySession(s))
    }
}

/// The configured display names of the classification levels, for templates.
#[derive(Clone)]
pub struct LevelLabels(pub [String; 3]);

impl LevelLabels {
    pub fn of(state: &AppState) -> Self {
        Self(state.settings.level_labels.clone())
    }

    /// The display name of `low`, `moderate` or `high`.
    pub fn get<'a>(&'a self, level: &'a str) -> &'a str {
        match level {
            "low" => &self.0[0],
            "moderate" => &self.0[1],
            "high" => &self.0[2],
            other => other,
        }
    }
}

/// A file sent with a multipart form.
pub struct UploadedFile {
    pub name: String,
    pub content_type: String,
    pub bytes: axum::body::Bytes,
}

/// Reads a multipart form: its text fields (as a [`Form`], CSRF token included) and the
/// file in `file_field`. Call it after the permission check, so that refusals are 403
/// whatever was sent.
pub async fn read_upload(
    req: axum::extract::Request,
    state: &AppState,
    file_field: &str,
) -> Result<(crate::http::extract::Form, Option<UploadedFile>), WebError> {
    let bad = |e: axum::extract::multipart::MultipartError| WebError::BadRequest(e.body_text());
    let mut parts =
        <axum::extract::Multipart as axum::extract::FromRequest<AppState>>::from_request(
            req, state,
        )
        .await
        .map_err(|e| WebError::BadRequest(e.body_text()))?;
    let (mut texts, mut file) = (vec![], None);
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            file = Some(UploadedFile {
                name: file_name,
                content_type,
                bytes,
            });
        } else {
            texts.push((name, field.text().await.map_err(bad)?));
        }
    }
    Ok((crate::http::extract::Form(texts), file))
}

/// An id from the URL path; anything unparsable is simply not found.
pub fn path_id<T: std::str::FromStr>(s: &str) -> Result<T, WebError> {
    s.parse().map_err(|_| WebError::NotFound)
}

/// The query string as a map (later repeats win).
pub fn query_map(raw: Option<String>) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Whether a failed form submission goes back to the user on the re-rendered form: input
/// they can correct (a 4xx other than "not found"). Anything else fails the request.
pub fn correctable(e: &impl Refusal) -> bool {
    e.correctable()
}

/// A failure a page may show on its form: the API's error or a use case's.
pub trait Refusal {
    fn correctable(&self) -> bool;
    /// The status the page answers with when it shows the form again.
    fn status(&self) -> StatusCode;
    /// The text a user is shown (never the cause of an internal error).
    fn detail(&self) -> String;
}

impl Refusal for ApiError {
    fn correctable(&self) -> bool {
        self.status().is_client_error() && self.status() != StatusCode::NOT_FOUND
    }
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }
    fn detail(&self) -> String {
        self.problem().detail
    }
}

impl Refusal for custos_core::Error {
    fn correctable(&self) -> bool {
        !matches!(
            self,
            custos_core::Error::NotFound(_) | custos_core::Error::Internal(_)
        )
    }
    fn status(&self) -> StatusCode {
        ApiError::from(self.clone()).status()
    }
    fn detail(&self) -> String {
        ApiError::from(self.clone()).problem().detail
    }
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(
    form: &crate::http::extract::Form,
    session: &SessionRecord,
) -> Result<(), WebError> {
    if constant_time_eq(form.get_or_empty("csrf"), &session.csrf_token) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

/// How a page fails.
#[derive(Debug)]
pub enum WebError {
    Redirect(&'static str),
    Forbidden,
    NotFound,
    Csrf,
    BadRequest(String),
    Api(ApiError),
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError::Api(e)
    }
}

impl From<custos_core::Error> for WebError {
    fn from(e: custos_core::Error) -> Self {
        WebError::Api(e.into())
    }
}

impl From<custos_core::DomainError> for WebError {
    fn from(e: custos_core::DomainError) -> Self {
        WebError::Api(e.into())
    }
}

impl From<custos_core::StoreError> for WebError {
    fn from(e: custos_core::StoreError) -> Self {
        WebError::Api(e.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
    pub nav: Option<Nav>,
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        ErrorPage {
            title: title.into(),
            message: message.into(),
            nav: None,
        },
    )
        .into_response()
}

pub fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address.",
    )
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Redirect(to) => see_other(to),
            WebError::Forbidden => error_page(
                StatusCode::FORBIDDEN,
                "Permission denied",
                "Your roles do not allow this page. Ask an administrator if you need access.",
            ),
            WebError::NotFound => not_found(),
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form was not accepted because its security token did not match. Go back, reload the page and try again.",
            ),
            WebError::BadRequest(m) => {
                error_page(StatusCode::BAD_REQUEST, "Request not accepted", &m)
            }
            WebError::Api(e) => {
                let status = e.status();
                let detail = e.problem().detail;
                let title = if status.is_server_error() {
                    "Something went wrong"
                } else {
                    "Request not accepted"
                };
                error_page(status, title, &detail)
            }
        }
    }
}

pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// `Set-Cookie` for the session: HttpOnly, SameSite=Lax, Secure unless configured off.
pub fn session_cookie(value: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("custos_session=; Path=/"))
}

pub fn clear_cookie(name: &str, path: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

pub fn with_cookie(mut resp: Response, cookie: HeaderValue) -> Response {
    resp.headers_mut().append(SET_COOKIE, cookie);
    resp
}

/// The user agent, trimmed, for the session list.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct Dashboard {
    title: String,
    nav: Option<Nav>,
    roles: Vec<&'static str>,
    department: Option<custos_core::account::Department>,
    profile: custos_core::account::SecurityProfile,
    mfa_enabled: bool,
    can_users: bool,
    can_departments: bool,
    can_audit: bool,
    can_incidents: bool,
    can_record: bool,
    unsealed: i64,
    /// What waits for the user: counts with their lists.
    waiting: Vec<crate::http::home::Waiting>,
    /// The groups the user has pages in, with those pages.
    sections: Vec<(&'static Section, Vec<&'static Entry>)>,
    notices: Vec<crate::announcements::pages::notices::Notice>,
}

async fn dashboard(
    axum::extract::State(state): axum::extract::State<AppState>,
    w: WebUser,
) -> Result<Response, WebError> {
    w.require(Permission::SelfService)?;
    let department = match w.principal.department_id {
        Some(id) => Some(state.store.department(id).await?),
        None => None,
    };
    let can_audit = w.principal.has(Permission::ReadAudit);
    let unsealed = if can_audit {
        state.store.unsealed_audit_count().await?
    } else {
        0
    };
    Ok(Dashboard {
        title: "Dashboard".into(),
        roles: w.principal.roles.iter().map(|r| r.label()).collect(),
        profile: w.session.profile.clone(),
        department,
        mfa_enabled: w.session.user.mfa_enabled,
        can_users: w.principal.has(Permission::ReadUsers),
        can_departments: w.principal.has(Permission::ReadDepartments),
        can_audit,
        can_incidents: w.principal.has(Permission::ReadIncidents),
        can_record: w.principal.has(Permission::ManageIncidents),
        unsealed,
        waiting: crate::http::home::waiting_for(&state, &w.principal).await?,
        sections: SECTIONS
            .iter()
            .map(|s| (s, s.entries_for(&w.principal).collect::<Vec<_>>()))
            .filter(|(_, e)| !e.is_empty())
            .collect(),
        notices: crate::announcements::pages::notices::notices(
            &state,
            &w.principal,
            Timestamp::now(),
        )
        .await?,
        nav: Some(Nav::new(&w, "/")),
    }
    .into_response())
}
