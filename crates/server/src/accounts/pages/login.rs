//! Sign-in: password, then TOTP (or a recovery code); sign-out. Each stage change issues a
//! new session id (no fixation), and only a fully signed-in session reaches other pages.

use crate::http::page::AnySession;

use crate::http::page::Nav;

use crate::http::page::WebError;

use crate::http::page::check_csrf;

use crate::http::page::clear_cookie;

use crate::http::page::see_other;

use crate::http::page::session_cookie;

use crate::http::page::user_agent;

use crate::http::auth::PRELOGIN_COOKIE;
use crate::http::auth::PasswordOutcome;
use crate::http::auth::begin_attempt;
use crate::http::auth::check_password;
use crate::http::auth::cookie;
use crate::http::extract::Form;
use crate::http::page::with_cookie;
use crate::http::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::User;
use custos_core::authz::Actor;
use custos_core::mfa::verify_code;
use custos_core::secret::{
    constant_time_eq, new_csrf_token, new_session_token, recovery_code_hash, token_hash,
};
use custos_core::store::{NewSession, SessionRecord, SessionStage, Store};
use custos_core::{SessionId, Timestamp};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/login/totp", get(totp_form).post(totp))
        .route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    email: String,
    error: Option<String>,
}

/// The pre-login CSRF cookie value, if the browser sent one.
struct Prelogin(Option<String>);

impl FromRequestParts<AppState> for Prelogin {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Prelogin(cookie(parts, PRELOGIN_COOKIE).map(str::to_string)))
    }
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> Response {
    let csrf = new_csrf_token();
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = HeaderValue::from_str(&format!(
        "{PRELOGIN_COOKIE}={csrf}; Path=/login; Max-Age=1800; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"));
    let page = LoginPage {
        title: "Sign in".into(),
        nav: None,
        csrf,
        email: email.into(),
        error,
    };
    with_cookie((status, page).into_response(), cookie)
}

async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, StatusCode::OK, "", None)
}

async fn login(
    State(state): State<AppState>,
    Prelogin(pre): Prelogin,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    let sent = form.get_or_empty("csrf");
    if pre.as_deref().is_none_or(|p| !constant_time_eq(p, sent)) {
        return Err(WebError::Csrf);
    }
    let email = form.get_or_empty("email").trim().to_string();
    let now = Timestamp::now();
    let outcome = check_password(
        state.store.as_ref(),
        &email,
        form.get_or_empty("password"),
        now,
    )
    .await?;
    match outcome {
        PasswordOutcome::Throttled { retry_after_secs } => {
            let mut r = login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(format!(
                    "Too many failed attempts for this account. Try again in {} minutes.",
                    retry_after_secs / 60
                )),
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after_secs));
            Ok(r)
        }
        PasswordOutcome::Rejected => Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &email,
            Some("Wrong e-mail address or password.".into()),
        )),
        PasswordOutcome::Accepted(creds, stage) => {
            if stage == SessionStage::Full {
                state
                    .store
                    .record_login_success(&creds.user, "password", now)
                    .await?;
            }
            let next = match stage {
                SessionStage::Full => "/",
                SessionStage::NeedsTotp => "/login/totp",
                SessionStage::NeedsEnrolment => "/account/mfa",
            };
            let cookie = start_session(
                state.store.as_ref(),
                &creds.user,
                stage,
                &headers,
                now,
                state.settings.cookie_secure,
            )
            .await?;
            let r = with_cookie(see_other(next), cookie);
            Ok(with_cookie(r, clear_cookie(PRELOGIN_COOKIE, "/login")))
        }
    }
}

/// Creates a session at `stage` and returns its cookie.
pub async fn start_session(
    store: &dyn Store,
    user: &User,
    stage: SessionStage,
    headers: &HeaderMap,
    now: Timestamp,
    secure: bool,
) -> Result<HeaderValue, WebError> {
    let token = new_session_token();
    store
        .create_session(NewSession {
            id: SessionId::new(),
            token_hash: token_hash(token.expose()),
            user_id: user.id,
            stage,
            csrf_token: new_csrf_token(),
            user_agent: user_agent(headers),
            now,
        })
        .await?;
    Ok(session_cookie(token.expose(), secure))
}

/// Replaces a partly signed-in session with a full one (new id) and records the sign-in.
pub async fn complete_sign_in(
    state: &AppState,
    old: &SessionRecord,
    method: &str,
    headers: &HeaderMap,
) -> Result<HeaderValue, WebError> {
    let now = Timestamp::now();
    let store = state.store.as_ref();
    store
        .delete_session(&Actor::System("sign-in"), old.user.id, old.id)
        .await?;
    store.record_login_success(&old.user, method, now).await?;
    start_session(
        store,
        &old.user,
        SessionStage::Full,
        headers,
        now,
        state.settings.cookie_secure,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/totp.html")]
struct TotpPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    error: Option<String>,
}

async fn totp_form(AnySession(s): AnySession) -> Result<Response, WebError> {
    if s.stage != SessionStage::NeedsTotp {
        return Err(WebError::Redirect("/"));
    }
    Ok(TotpPage {
        title: "Two-step verification".into(),
        nav: None,
        csrf: s.csrf_token,
        error: None,
    }
    .into_response())
}

async fn totp(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    if s.stage != SessionStage::NeedsTotp {
        return Err(WebError::Redirect("/"));
    }
    check_csrf(&form, &s)?;
    let store = state.store.as_ref();
    let now = Timestamp::now();
    let email = s.user.email.as_str();
    let Ok(attempt) = begin_attempt(store, email, Some(s.user.id), now).await? else {
        store
            .delete_session(&Actor::System("sign-in"), s.user.id, s.id)
            .await?;
        let page = TotpPage {
            title: "Two-step verification".into(),
            nav: None,
            csrf: String::new(),
            error: Some("Too many failed attempts. Sign in again later.".into()),
        };
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    };
    let code = form.get_or_empty("code").trim();
    let ok = if code.chars().any(|c| c.is_ascii_alphabetic()) {
        store
            .use_recovery_code(
                &Actor::authenticating(s.user.id, s.user.email.clone()),
                s.user.id,
                &recovery_code_hash(code),
                now,
            )
            .await?
    } else {
        let creds = store.credentials(s.user.id).await?;
        match creds
            .totp_secret
            .as_ref()
            .and_then(|sec| verify_code(sec, code, now, None))
        {
            Some(step) => store.accept_totp_step(s.user.id, step).await?,
            None => false,
        }
    };
    if !ok {
        store
            .record_login_failure(email, Some(s.user.id), "wrong second factor", now)
            .await?;
        let page = TotpPage {
            title: "Two-step verification".into(),
            nav: None,
            csrf: s.csrf_token,
            error: Some(
                "That code is not valid. Enter the current code from your app, or a recovery code."
                    .into(),
            ),
        };
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    store.clear_login_attempt(attempt).await?;
    let cookie = complete_sign_in(&state, &s, "password+totp", &headers).await?;
    Ok(with_cookie(see_other("/"), cookie))
}

async fn logout(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    form: Form,
) -> Result<Response, WebError> {
    check_csrf(&form, &s)?;
    let actor = Actor::authenticating(s.user.id, s.user.email.clone());
    state.store.delete_session(&actor, s.user.id, s.id).await?;
    Ok(with_cookie(
        see_other("/login"),
        clear_cookie(crate::http::auth::SESSION_COOKIE, "/"),
    ))
}
