//! The announcement pages: the managers' list and form (`manage.rs`), and the notices a
//! reader is shown on the portal and the dashboard (`notices.rs`).

pub mod manage;
pub mod notices;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().merge(manage::router())
}
