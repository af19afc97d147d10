//! My account: profile, password, MFA enrolment (QR code) and removal, API tokens, sessions.

use crate::accounts::pages::login::complete_sign_in;

use crate::accounts::issue;
use crate::accounts::pages::login::start_session;
use crate::http::auth::begin_attempt;
use crate::http::extract::Form;
use crate::http::page::AnySession;
use crate::http::page::Nav;
use crate::http::page::WebError;
use crate::http::page::WebUser;
use crate::http::page::check_csrf;
use crate::http::page::see_other;
use crate::http::page::with_cookie;
use crate::http::state::AppState;
use crate::http::util::human;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::account::check_password_policy;
use custos_core::authz::{Actor, Permission};
use custos_core::mfa::{new_totp_secret, otpauth_uri, verify_code};
use custos_core::page::PageRequest;
use custos_core::secret::{PasswordHash, new_recovery_codes, recovery_code_hash};
use custos_core::store::SessionStage;
use custos_core::{SessionId, Timestamp, TokenId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/mfa", get(enrol_form).post(enrol))
        .route("/account/mfa/disable", post(disable_mfa))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/sessions/{id}/end", post(end_session))
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub revoked: bool,
}

pub struct SessionRow {
    pub id: String,
    pub user_agent: String,
    pub created: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    email: String,
    display_name: String,
    roles: Vec<&'static str>,
    mfa_enabled: bool,
    mfa_required: bool,
    recovery_left: i64,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
    message: Option<String>,
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    w: &WebUser,
    message: Option<String>,
    error: Option<String>,
) -> Result<AccountPage, WebError> {
    let store = state.store.as_ref();
    let uid = w.principal.user_id;
    let tokens = store.list_tokens(uid, PageRequest::first(200)).await?;
    let sessions = store.list_sessions(uid).await?;
    Ok(AccountPage {
        title: "My account".into(),
        nav: Some(Nav::new(w, "/account")),
        csrf: w.session.csrf_token.clone(),
        email: w.principal.email.to_string(),
        display_name: w.principal.display_name.clone(),
        roles: w.principal.roles.iter().map(|r| r.label()).collect(),
        mfa_enabled: w.session.user.mfa_enabled,
        mfa_required: w.session.profile.mfa_required,
        recovery_left: store.remaining_recovery_codes(uid).await?,
        tokens: tokens
            .items
            .iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                name: t.name.clone(),
                created: human(t.created_at),
                expires: t.expires_at.map(human).unwrap_or_else(|| "never".into()),
                last_used: t.last_used_at.map(human).unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        sessions: sessions
            .iter()
            .filter(|s| s.stage == SessionStage::Full)
            .map(|s| SessionRow {
                id: s.id.to_string(),
                user_agent: if s.user_agent.is_empty() {
                    "unknown browser".into()
                } else {
                    s.user_agent.clone()
                },
                created: human(s.created_at),
                last_seen: human(s.last_seen_at),
                current: s.id == w.session.id,
            })
            .collect(),
        message,
        error,
    })
}

async fn account(
    State(state): State<AppState>,
    w: WebUser,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    w.require(Permission::SelfService)?;
    let message = match q.as_deref() {
        Some("done=password") => {
            Some("Password changed. Your other sessions were signed out.".to_string())
        }
        Some("done=mfa_off") => Some("Two-step verification is off.".to_string()),
        _ => None,
    };
    Ok(account_page(&state, &w, message, None)
        .await?
        .into_response())
}

/// Re-proves the signed-in user's identity for a sensitive change: the current password and,
/// when given, a TOTP code (not replayable). Counts against the same throttle as sign-in.
/// `Ok(Err(message))` when the proof fails.
async fn reprove(
    state: &AppState,
    w: &WebUser,
    password: &str,
    code: Option<&str>,
) -> Result<Result<(), String>, WebError> {
    let store = state.store.as_ref();
    let now = Timestamp::now();
    let email = w.principal.email.as_str();
    let Ok(attempt) = begin_attempt(store, email, Some(w.principal.user_id), now).await? else {
        return Ok(Err(
            "Too many failed attempts. Try again in 15 minutes.".into()
        ));
    };
    let creds = store.credentials(w.principal.user_id).await?;
    if !creds.password_hash.verify(password) {
        store
            .record_login_failure(
                email,
                Some(w.principal.user_id),
                "wrong password (re-authentication)",
                now,
            )
            .await?;
        return Ok(Err("Your current password is not correct.".into()));
    }
    if let Some(code) = code {
        let step = creds
            .totp_secret
            .as_ref()
            .and_then(|s| verify_code(s, code, now, None));
        let accepted = match step {
            Some(step) => store.accept_totp_step(w.principal.user_id, step).await?,
            None => false,
        };
        if !accepted {
            store
                .record_login_failure(
                    email,
                    Some(w.principal.user_id),
                    "wrong second factor (re-authentication)",
                    now,
                )
                .await?;
            return Ok(Err("That code is not valid (or was already used). Enter the current code from your app.".into()));
        }
    }
    store.clear_login_attempt(attempt).await?;
    Ok(Ok(()))
}

async fn change_password(
    State(state): State<AppState>,
    w: WebUser,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::SelfService)?;
    check_csrf(&form, &w.session)?;
    let new = form.get_or_empty("new_password");
    let problem = if new != form.get_or_empty("confirm_password") {
        Some("The new passwords do not match.".to_string())
    } else if let Err(e) = check_password_policy(new, &w.principal.email) {
        Some(format!("The new password {}.", e.message))
    } else {
        reprove(&state, &w, form.get_or_empty("current_password"), None)
            .await?
            .err()
    };
    if let Some(err) = problem {
        let page = account_page(&state, &w, None, Some(err)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    // Ends every session of the user (a stolen cookie dies), then signs this browser in anew.
    state
        .store
        .set_password(&actor, w.principal.user_id, PasswordHash::create(new))
        .await?;
    let cookie = start_session(
        state.store.as_ref(),
        &w.session.user,
        SessionStage::Full,
        &headers,
        Timestamp::now(),
        state.settings.cookie_secure,
    )
    .await?;
    Ok(with_cookie(see_other("/account?done=password"), cookie))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/enrol.html")]
struct EnrolPage {
    title: String,
    nav: Option<Nav>,
    csrf: String,
    qr_svg: String,
    secret: String,
    uri: String,
    required: bool,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/recovery.html")]
struct RecoveryPage {
    title: String,
    nav: Option<Nav>,
    codes: Vec<String>,
}

/// An SVG QR code of `data`, sized by the viewBox so CSS can scale it.
pub fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn enrol_page(
    state: &AppState,
    s: &custos_core::store::SessionRecord,
    error: Option<String>,
) -> Result<EnrolPage, WebError> {
    let store = state.store.as_ref();
    let secret = match store.pending_totp(s.user.id).await? {
        Some(sec) => sec,
        None => {
            let sec = new_totp_secret();
            let actor = Actor::authenticating(s.user.id, s.user.email.clone());
            store.set_pending_totp(&actor, s.user.id, &sec).await?;
            sec
        }
    };
    let uri = otpauth_uri(&secret, s.user.email.as_str())?;
    Ok(EnrolPage {
        title: "Set up two-step verification".into(),
        nav: None,
        csrf: s.csrf_token.clone(),
        qr_svg: qr_svg(&uri),
        secret: secret.expose().to_string(),
        uri,
        required: s.stage == SessionStage::NeedsEnrolment,
        error,
    })
}

async fn enrol_form(
    State(state): State<AppState>,
    AnySession(s): AnySession,
) -> Result<Response, WebError> {
    if s.stage == SessionStage::NeedsTotp {
        return Err(WebError::Redirect("/login/totp"));
    }
    if s.user.mfa_enabled {
        return already_enrolled(&state, &s).await;
    }
    Ok(enrol_page(&state, &s, None).await?.into_response())
}

/// Enrolment finished elsewhere: a full session goes to its account page; a half-signed-in
/// one (enrolled from another browser) must sign in again, now with the code.
async fn already_enrolled(
    state: &AppState,
    s: &custos_core::store::SessionRecord,
) -> Result<Response, WebError> {
    if s.stage == SessionStage::Full {
        return Err(WebError::Redirect("/account"));
    }
    state
        .store
        .delete_session(&Actor::System("sign-in"), s.user.id, s.id)
        .await?;
    Err(WebError::Redirect("/login"))
}

async fn enrol(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, WebError> {
    if s.stage == SessionStage::NeedsTotp {
        return Err(WebError::Redirect("/login/totp"));
    }
    if s.user.mfa_enabled {
        return already_enrolled(&state, &s).await;
    }
    check_csrf(&form, &s)?;
    let store = state.store.as_ref();
    let Some(secret) = store.pending_totp(s.user.id).await? else {
        return Err(WebError::Redirect("/account/mfa"));
    };
    let Some(step) = verify_code(&secret, form.get_or_empty("code"), Timestamp::now(), None) else {
        let page = enrol_page(
            &state,
            &s,
            Some(
                "That code is not valid. Check the time on your phone and enter the current code."
                    .into(),
            ),
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let codes = new_recovery_codes();
    let hashes = codes
        .iter()
        .map(|c| recovery_code_hash(c.expose()))
        .collect();
    let actor = Actor::authenticating(s.user.id, s.user.email.clone());
    store.confirm_totp(&actor, s.user.id, step, hashes).await?;
    let page = RecoveryPage {
        title: "Save your recovery codes".into(),
        nav: None,
        codes: codes.iter().map(|c| c.expose().to_string()).collect(),
    }
    .into_response();
    if s.stage == SessionStage::NeedsEnrolment {
        let cookie = complete_sign_in(&state, &s, "password+totp-enrolment", &headers).await?;
        return Ok(with_cookie(page, cookie));
    }
    Ok(page)
}

async fn disable_mfa(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::SelfService)?;
    check_csrf(&form, &w.session)?;
    let refusal = if w.session.profile.mfa_required {
        Some("Your department requires two-step verification; it cannot be turned off.".to_string())
    } else {
        reprove(
            &state,
            &w,
            form.get_or_empty("password"),
            Some(form.get_or_empty("code")),
        )
        .await?
        .err()
    };
    if let Some(err) = refusal {
        let page = account_page(&state, &w, None, Some(err)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    state
        .store
        .disable_totp(&actor, w.principal.user_id)
        .await?;
    Ok(see_other("/account?done=mfa_off"))
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/token_created.html")]
struct TokenCreatedPage {
    title: String,
    nav: Option<Nav>,
    name: String,
    token: String,
}

async fn create_token(
    State(state): State<AppState>,
    w: WebUser,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::SelfService)?;
    check_csrf(&form, &w.session)?;
    let days = match form.get_or_empty("expires_in_days").trim() {
        "" | "0" => None,
        d => match d.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                let page = account_page(
                    &state,
                    &w,
                    None,
                    Some("Expiry must be a number of days.".into()),
                )
                .await?;
                return Ok((StatusCode::BAD_REQUEST, page).into_response());
            }
        },
    };
    match issue(
        state.store.as_ref(),
        &actor,
        w.principal.user_id,
        form.get_or_empty("name"),
        days,
    )
    .await
    {
        Ok((secret, token)) => Ok(TokenCreatedPage {
            title: "Token created".into(),
            nav: Some(Nav::new(&w, "/account")),
            name: token.name,
            token: secret.expose().to_string(),
        }
        .into_response()),
        Err(custos_core::Error::Validation { message, field }) => {
            let page =
                account_page(&state, &w, None, Some(format!("Token {field} {message}."))).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::SelfService)?;
    check_csrf(&form, &w.session)?;
    let id: TokenId = crate::http::page::path_id(&id)?;
    state
        .store
        .revoke_token(&actor, w.principal.user_id, id, Timestamp::now())
        .await?;
    state.auth_cache.forget_user(w.principal.user_id);
    Ok(see_other("/account"))
}

async fn end_session(
    State(state): State<AppState>,
    w: WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, WebError> {
    let actor = w.require(Permission::SelfService)?;
    check_csrf(&form, &w.session)?;
    let id: SessionId = crate::http::page::path_id(&id)?;
    state
        .store
        .delete_session(&actor, w.principal.user_id, id)
        .await?;
    Ok(see_other(if id == w.session.id {
        "/login"
    } else {
        "/account"
    }))
}
