//! The accounts pages: sign-in, one's own account, administration of users and departments.

pub mod account;
pub mod admin;
pub mod login;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(account::router())
        .merge(admin::router())
}
