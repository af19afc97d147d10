//! The service level API: customers, the service catalogue, SLAs and their reports.

pub mod customers;
pub mod services;
pub mod slas;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(customers::router())
        .merge(services::router())
        .merge(slas::router())
}
