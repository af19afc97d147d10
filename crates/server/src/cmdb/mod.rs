//! Configuration management: CIs, relationships, classification and impact analysis.

pub mod api;
pub mod pages;
