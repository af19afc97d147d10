//! Accounts: people, their departments, sign-in, sessions and API tokens.

pub mod api;
pub mod pages;
