//! The audit log: the tamper-evident chain and who may read it.

pub mod api;
pub mod pages;
