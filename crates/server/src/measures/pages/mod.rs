//! The security measures pages: the control catalogue, required measures and gaps.

pub mod controls;
pub mod measures;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(controls::router())
        .merge(measures::router())
}
