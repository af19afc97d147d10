//! The problem pages: the list, recording a problem, known errors, and a problem's page.

pub mod list;
pub mod page;
pub mod views;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().merge(list::router())
}
