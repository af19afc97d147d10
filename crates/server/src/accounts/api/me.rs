//! `GET /me`: the caller.

use crate::accounts::api::users::UserOut;
use crate::http::auth::Need;
use crate::http::auth::perm;
use crate::http::error::ApiResult;
use crate::http::error::Problem;
use crate::http::state::AppState;
use axum::Json;
use custos_core::authz::Permission;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeOut {
    #[serde(flatten)]
    pub user: UserOut,
    /// Permissions the caller's roles grant.
    pub permissions: Vec<&'static str>,
    /// `api_token` or `session`.
    pub authenticated_by: &'static str,
}

/// The authenticated user, their roles and permissions.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, description = "OK", body = MeOut), (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json")))]
async fn me(
    Need {
        principal: p, user, ..
    }: Need<perm::SelfService>,
) -> ApiResult<Json<MeOut>> {
    Ok(Json(MeOut {
        user: UserOut::from(&user),
        permissions: Permission::ALL
            .into_iter()
            .filter(|x| p.has(*x))
            .map(Permission::as_str)
            .collect(),
        authenticated_by: "api_token",
    }))
}
