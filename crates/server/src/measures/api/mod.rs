//! The security measures API: the control catalogue, required measures and gaps.

pub mod controls;
pub mod measures;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(controls::router())
        .merge(measures::router())
}
