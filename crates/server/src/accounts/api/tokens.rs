//! `/tokens`: the caller's own API tokens; `/users/{id}/tokens`: an administrator's view of
//! anyone's tokens. A token is shown once, stored as its SHA-256, carries its user's roles.

use crate::http::api::PageParams;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiError;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::parse_id;
use crate::http::util::rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::authz::Actor;
use custos_core::store::ApiToken;
use custos_core::{StoreError, Timestamp, TokenId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_user_tokens))
        .routes(routes!(revoke_user_token))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiToken> for TokenOut {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.0,
            user_id: t.user_id.0,
            name: t.name.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: t.expires_at.map(rfc3339),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "monitoring".
    pub name: String,
    /// Days until it expires (1–3650); omit for no expiry.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    /// The secret. Shown only in this response; store it now.
    pub token: String,
    #[serde(flatten)]
    pub meta: TokenOut,
}

/// The caller's tokens (revoked ones included, marked).
#[utoipa::path(get, path = "/tokens", tag = "account", params(PageParams),
    responses((status = 200, description = "OK", body = TokenList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn list_tokens(
    State(state): State<AppState>,
    Need { principal: p, .. }: Need<perm::SelfService>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<TokenList>> {
    let page = state.store.list_tokens(p.user_id, q.request()).await?;
    Ok(axum::Json(TokenList {
        items: page.items.iter().map(TokenOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Issues a token for the caller, with the caller's roles. It expires no later than the
/// token used to create it.
#[utoipa::path(post, path = "/tokens", tag = "account", request_body = CreateToken,
    responses((status = 201, description = "Created", body = TokenCreated), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn create_token(
    State(state): State<AppState>,
    Need {
        principal: p,
        actor,
        token: parent,
        ..
    }: Need<perm::SelfService>,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, axum::Json<TokenCreated>)> {
    let (secret, token) = crate::accounts::issue_until(
        state.store.as_ref(),
        &actor,
        p.user_id,
        &body.name,
        body.expires_in_days,
        parent.expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenCreated {
            token: secret.expose().to_string(),
            meta: TokenOut::from(&token),
        }),
    ))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "account", params(("id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn revoke_token(
    State(state): State<AppState>,
    Need {
        principal: p,
        actor,
        ..
    }: Need<perm::SelfService>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    revoke(&state, &actor, p.user_id, TokenId(parse_id(&id)?)).await
}

/// Any user's tokens (administrators).
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "users", params(("id" = Uuid, Path), PageParams),
    responses((status = 200, description = "OK", body = TokenList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_user_tokens(
    State(state): State<AppState>,
    _: Need<perm::ManageUsers>,
    Path(id): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<TokenList>> {
    let page = state
        .store
        .list_tokens(UserId(parse_id(&id)?), q.request())
        .await?;
    Ok(axum::Json(TokenList {
        items: page.items.iter().map(TokenOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Revokes any user's token (administrators).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "users",
    params(("id" = Uuid, Path), ("token_id" = Uuid, Path)),
    responses((status = 204, description = "No content"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn revoke_user_token(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageUsers>,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    revoke(
        &state,
        &actor,
        UserId(parse_id(&id)?),
        TokenId(parse_id(&token_id)?),
    )
    .await
}

async fn revoke(
    state: &AppState,
    actor: &Actor,
    owner: UserId,
    id: TokenId,
) -> ApiResult<StatusCode> {
    let result = state
        .store
        .revoke_token(actor, owner, id, Timestamp::now())
        .await;
    state.auth_cache.forget_user(owner);
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound { .. }) => Err(ApiError::NotFound("api token".into())),
        Err(e) => Err(e.into()),
    }
}
