//! `/users`: accounts, for administrators (read: also auditors and security managers).

use crate::http::api::PageParams;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::extract::Json;
use crate::http::extract::Query;
use crate::http::state::AppState;
use crate::http::util::{parse_id, rfc3339};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use custos_core::account::{
    Role, User, UserPatch, check_name, guard_self_lockout, new_user, parse_roles,
};
use custos_core::{DepartmentId, UserId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// requester, agent, security_manager, service_owner, customer_representative, auditor, admin
    pub roles: Vec<&'static str>,
    pub department_id: Option<Uuid>,
    pub disabled: bool,
    pub mfa_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.to_string(),
            display_name: u.display_name.clone(),
            roles: u.roles.iter().map(Role::as_str).collect(),
            department_id: u.department_id.map(|d| d.0),
            disabled: u.disabled,
            mfa_enabled: u.mfa_enabled,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserOut>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    /// Defaults to the part of the e-mail before the @.
    #[serde(default)]
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    /// At least 12 characters; see the password policy.
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    pub display_name: Option<String>,
    pub roles: Option<Vec<String>>,
    /// `null` removes the user from their department.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub department_id: Option<Option<Uuid>>,
    pub disabled: Option<bool>,
}

/// Tells an explicit `null` (Some(None)) from an absent field (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Lists accounts.
#[utoipa::path(get, path = "/users", tag = "users", params(PageParams),
    responses((status = 200, description = "OK", body = UserList), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json")))]
async fn list_users(
    State(state): State<AppState>,
    _: Need<perm::ReadUsers>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<UserList>> {
    let page = state.store.list_users(q.request()).await?;
    Ok(axum::Json(UserList {
        items: page.items.iter().map(UserOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an account.
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    responses((status = 201, description = "Created", body = UserOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with existing data", body = Problem, content_type = "application/problem+json")))]
async fn create_user(
    State(state): State<AppState>,
    Need { actor, .. }: Need<perm::ManageUsers>,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<UserOut>)> {
    let roles = parse_roles(&body.roles)?;
    let new = new_user(
        &body.email,
        body.display_name.as_deref(),
        roles,
        body.department_id.map(DepartmentId),
        &body.password,
    )?;
    let user = state.store.create_user(&actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(UserOut::from(&user))))
}

/// One account.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, description = "OK", body = UserOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json")))]
async fn get_user(
    State(state): State<AppState>,
    _: Need<perm::ReadUsers>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<UserOut>> {
    let id = parse_id(&id)?;
    Ok(axum::Json(UserOut::from(
        &state.store.user(UserId(id)).await?,
    )))
}

/// Changes display name, roles, department or disabled state. Administrators cannot remove
/// their own admin role or disable themselves.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = PatchUser,
    responses((status = 200, description = "OK", body = UserOut), (status = 400, description = "Invalid request; `field` names the offending field", body = Problem, content_type = "application/problem+json"), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The token's roles lack the permission", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with existing data", body = Problem, content_type = "application/problem+json")))]
async fn patch_user(
    State(state): State<AppState>,
    Need {
        principal: p,
        actor,
        ..
    }: Need<perm::ManageUsers>,
    Path(id): Path<String>,
    Json(body): Json<PatchUser>,
) -> ApiResult<axum::Json<UserOut>> {
    let id = UserId(parse_id(&id)?);
    let patch = UserPatch {
        display_name: body
            .display_name
            .as_deref()
            .map(|d| check_name("display_name", d, 100))
            .transpose()?,
        roles: body.roles.as_deref().map(parse_roles).transpose()?,
        department_id: body.department_id.map(|d| d.map(DepartmentId)),
        disabled: body.disabled,
    };
    guard_self_lockout(&p, id, &patch)?;
    let user = state.store.update_user(&actor, id, patch).await?;
    state.auth_cache.forget_user(id);
    Ok(axum::Json(UserOut::from(&user)))
}
