//! The incident pages: the agents' list and an incident's page with its forms, support groups, and the requester portal.

pub mod common;
pub mod detail;
pub mod forms;
pub mod groups;
pub mod list;
pub mod new;
pub mod portal;
pub mod related;
pub mod view;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(list::router())
        .merge(forms::router())
        .merge(related::router())
        .merge(portal::router())
        .merge(groups::router())
}
