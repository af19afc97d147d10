//! Who is calling: API callers by bearer token, browsers by session cookie. Also the
//! sign-in rules shared by the web login and the CLI (throttling, MFA requirement).

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use custos_core::account::Credentials;
use custos_core::authz::{AuthMethod, Principal};
use custos_core::secret::{dummy_password_hash, token_hash};
use custos_core::store::{SessionRecord, SessionStage, Store};
use custos_core::{StoreError, Timestamp};

pub const SESSION_COOKIE: &str = "custos_session";
pub const PRELOGIN_COOKIE: &str = "custos_prelogin";

/// Failed attempts per account within [`THROTTLE_WINDOW_SECS`] before sign-in is refused.
pub const THROTTLE_LIMIT: i64 = 5;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// A caller authenticated by API token, with the account as loaded with the token.
/// Rejects with 401 problem+json.
pub struct ApiAuth(
    pub Principal,
    pub custos_core::account::User,
    /// The token used for this request.
    pub custos_core::store::ApiToken,
);

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(ApiError::Unauthorized)?;
        let now = Timestamp::now();
        let hash = token_hash(token);
        let owner = match state.auth_cache.get(&hash, now) {
            Some(o) => o,
            None => {
                let mut owner = match state.store.token_owner(&hash, now).await {
                    Ok(o) => o,
                    Err(StoreError::NotFound { .. }) => return Err(ApiError::Unauthorized),
                    Err(e) => return Err(e.into()),
                };
                // Record use at most once a minute, so the hot path stays read-only.
                if owner
                    .token
                    .last_used_at
                    .is_none_or(|t| t < now.minus_secs(60))
                {
                    state.store.touch_token(owner.token.id, now).await?;
                    owner.token.last_used_at = Some(now);
                }
                state.auth_cache.put(hash, owner.clone());
                owner
            }
        };
        let (u, token) = (owner.user, owner.token);
        let principal = Principal {
            user_id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            department_id: u.department_id,
            method: AuthMethod::ApiToken,
        };
        Ok(ApiAuth(principal, u, token))
    }
}

/// Reads one cookie from the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The live session named by the request's cookie, if any. Touches it (for the idle
/// timeout) at most every 30 seconds.
pub async fn current_session(
    parts: &Parts,
    store: &dyn Store,
    now: Timestamp,
) -> Result<Option<(String, SessionRecord)>, ApiError> {
    let Some(value) = cookie(parts, SESSION_COOKIE).filter(|v| !v.is_empty() && v.len() <= 200)
    else {
        return Ok(None);
    };
    let hash = token_hash(value);
    let rec = match store.session_by_hash(&hash).await {
        Ok(r) => r,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !rec.is_live(now) {
        let _ = store
            .delete_session(
                &custos_core::authz::Actor::System("session-expiry"),
                rec.user.id,
                rec.id,
            )
            .await;
        return Ok(None);
    }
    if rec.last_seen_at < now.minus_secs(30) {
        store.touch_session(rec.id, now).await?;
    }
    Ok(Some((hash, rec)))
}

pub fn principal_of(rec: &SessionRecord) -> Principal {
    let u = &rec.user;
    Principal {
        user_id: u.id,
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.clone(),
        department_id: u.department_id,
        method: AuthMethod::Session,
    }
}

/// The result of checking an e-mail and password.
pub enum PasswordOutcome {
    /// Correct; the next stage of sign-in.
    Accepted(Box<Credentials>, SessionStage),
    Rejected,
    Throttled {
        retry_after_secs: u64,
    },
}

/// The password step of sign-in: throttling first (5 failures in 15 minutes per account
/// earn a cooling-off period, audited), then the password (a missing account costs the same
/// time), then what MFA demands.
pub async fn check_password(
    store: &dyn Store,
    email: &str,
    password: &str,
    now: Timestamp,
) -> Result<PasswordOutcome, ApiError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || email.chars().any(char::is_control) {
        return Ok(PasswordOutcome::Rejected);
    }
    let creds = match store.credentials_by_email(&email).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let user_id = creds.as_ref().map(|c| c.user.id);
    let attempt = match begin_attempt(store, &email, user_id, now).await? {
        Ok(id) => id,
        Err(retry_after_secs) => return Ok(PasswordOutcome::Throttled { retry_after_secs }),
    };
    let Some(creds) = creds else {
        dummy_password_hash().verify(password);
        store
            .record_login_failure(&email, None, "unknown account", now)
            .await?;
        return Ok(PasswordOutcome::Rejected);
    };
    let ok = creds.password_hash.verify(password);
    if !ok || creds.user.disabled {
        let reason = if ok {
            "account disabled"
        } else {
            "wrong password"
        };
        store
            .record_login_failure(&email, user_id, reason, now)
            .await?;
        return Ok(PasswordOutcome::Rejected);
    }
    store.clear_login_attempt(attempt).await?;
    let stage = if creds.totp_secret.is_some() {
        SessionStage::NeedsTotp
    } else if creds.profile.mfa_required {
        SessionStage::NeedsEnrolment
    } else {
        SessionStage::Full
    };
    Ok(PasswordOutcome::Accepted(Box::new(creds), stage))
}

/// Registers an attempt to prove an identity (password, TOTP code, recovery code) for
/// `email`. `Err(retry_after)` when this attempt is beyond the limit: it is refused and the
/// refusal audited. `Ok(id)`: go ahead; clear the attempt with
/// `Store::clear_login_attempt` if it succeeds, audit it as a failure if not.
pub async fn begin_attempt(
    store: &dyn Store,
    email: &str,
    user: Option<custos_core::UserId>,
    now: Timestamp,
) -> Result<Result<uuid::Uuid, u64>, ApiError> {
    let since = now.minus_secs(THROTTLE_WINDOW_SECS);
    let (id, count) = store.register_login_attempt(email, now, since).await?;
    if count > THROTTLE_LIMIT {
        store.record_login_throttled(email, user, now).await?;
        return Ok(Err(THROTTLE_WINDOW_SECS as u64));
    }
    Ok(Ok(id))
}

/// Permission markers for [`Need`]: a handler's signature declares what it needs.
pub use custos_core::authz::perm;

/// An API caller who holds permission `P`: 401 without a valid token, 403 without the
/// permission — both decided before the request body is read. Carries the [`Actor`](custos_core::authz::Actor)
/// capability that storage writes require.
pub struct Need<P: perm::Perm> {
    pub principal: Principal,
    pub user: custos_core::account::User,
    pub actor: custos_core::authz::Actor,
    /// The token used for this request.
    pub token: custos_core::store::ApiToken,
    _p: std::marker::PhantomData<P>,
}

impl<P: perm::Perm> FromRequestParts<AppState> for Need<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ApiAuth(principal, user, token) = ApiAuth::from_request_parts(parts, state).await?;
        let actor = principal.require(P::P)?;
        Ok(Need {
            principal,
            user,
            actor,
            token,
            _p: std::marker::PhantomData,
        })
    }
}
