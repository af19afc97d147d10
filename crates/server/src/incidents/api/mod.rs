//! The incident API: records, working an incident, communications.

pub mod comms;
pub mod records;
pub mod work;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(records::router())
        .merge(work::router())
        .merge(comms::router())
}
