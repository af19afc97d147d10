//! Errors at the domain and storage boundaries. The HTTP mapping lives in the server crate.

use thiserror::Error;

/// Invalid input, named by the field it concerns.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: String,
    pub message: String,
}

impl DomainError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a storage backend reports. Driver errors are mapped to this once, in the store crate.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A unique or foreign-key constraint refused the write; `constraint` is its name.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    #[error("invalid data: {0}")]
    Invalid(#[from] DomainError),
    #[error("storage failure: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
