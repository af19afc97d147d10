//! The accounts API: the caller, users, departments and API tokens.

pub mod departments;
pub mod me;
pub mod tokens;
pub mod users;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(me::router())
        .merge(users::router())
        .merge(departments::router())
        .merge(tokens::router())
}
