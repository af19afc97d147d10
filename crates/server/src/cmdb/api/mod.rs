//! The CMDB API: configuration items, relationships, bulk import and export.

pub mod cis;
pub mod io;
pub mod relationships;

use crate::http::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(cis::router())
        .merge(relationships::router())
        .merge(io::router())
}
