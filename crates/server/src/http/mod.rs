//! What the edges share: the state every handler receives, the one mapping from failures to
//! HTTP, request extractors, authentication, the page layout and navigation, the OpenAPI
//! document, metrics and the background jobs.

pub mod api;
pub mod auth;
pub mod auth_cache;
pub mod doc;
pub mod error;
pub mod extract;
pub mod home;
pub mod jobs;
pub mod metrics;
pub mod nav;
pub mod page;
pub mod state;
pub mod util;
