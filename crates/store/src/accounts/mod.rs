//! Accounts: departments and their security profiles, users, and signing in (sessions, MFA,
//! API tokens).

mod auth;
mod departments;
pub(crate) mod rows;
mod users;
