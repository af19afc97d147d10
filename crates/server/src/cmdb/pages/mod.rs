//! The CMDB pages: configuration items, import and export.

pub mod cis;
pub mod io;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().merge(cis::router()).merge(io::router())
}
