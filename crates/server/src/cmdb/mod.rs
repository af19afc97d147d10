//! Configuration management: CIs, relationships, classification and impact analysis.

pub mod api;
pub mod classification;
pub mod impact;
pub mod io;
pub mod pages;

pub use classification::{ClassificationOut, provenance};
pub use impact::{ImpactOut, impact_depth, run_impact};
