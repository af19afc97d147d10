//! The problem API: records, linked incidents, fixes and their security review.

pub mod fixes;
pub mod records;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(records::router())
        .merge(fixes::router())
}
