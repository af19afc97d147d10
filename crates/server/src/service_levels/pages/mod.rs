//! The service level pages: the catalogue, customers and suppliers, SLAs with their reports, OLAs and contracts.

pub mod common;
pub mod customers;
pub mod service_form;
pub mod services;
pub mod sla_form;
pub mod sla_list;
pub mod sla_reports;
pub mod sla_terms;
pub mod slas;
pub mod suppliers;
pub mod underpinning;

use crate::http::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(services::router())
        .merge(customers::router())
        .merge(slas::router())
}
