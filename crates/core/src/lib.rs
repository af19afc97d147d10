//! Custos domain: the types, rules and storage contract that every other crate builds on.
//!
//! Architecture invariant: this crate depends on neither the web framework nor the database
//! driver. Rules here are pure functions of their inputs — time is passed in, never read.

pub mod account;
pub mod announcement;
pub mod audit;
pub mod authz;
pub mod calendar;
pub mod classification;
pub mod cmdb;
pub mod controls;
pub mod error;
pub mod ids;
pub mod incident;
pub mod measures;
pub mod mfa;
pub mod notify;
pub mod oscal;
pub mod page;
pub mod problem;
pub mod procedure;
pub mod recognition;
pub mod secret;
pub mod service;
pub mod sla;
pub mod sla_clock;
pub mod sla_report;
pub mod store;
pub mod ticket;
pub mod ticket_stats;
pub mod time;

pub use error::{DomainError, Error, Outcome, StoreError};
pub use ids::*;
pub use time::Timestamp;
