//! Errors at the domain and storage boundaries. The HTTP mapping lives in the server crate
//! (problem+json for the API, an error page or a re-rendered form for the web UI).

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

/// What a use case refuses or fails with. The API maps it to problem+json and the pages to
/// an error page, once each; no use case knows about HTTP.
#[derive(Debug, Clone, Error)]
pub enum Error {
    #[error("{0}")]
    Forbidden(#[from] crate::authz::Forbidden),
    /// The record does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// A security manager's approval is missing (the security review gate).
    #[error("{0}")]
    ReviewRequired(String),
    #[error("request body too large")]
    TooLarge,
    /// A failure the caller cannot act on; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A use case's result.
pub type Outcome<T> = Result<T, Error>;

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<DomainError> for Error {
    fn from(e: DomainError) -> Self {
        Error::Validation {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => Error::NotFound(entity.to_string()),
            StoreError::Conflict { constraint } => Error::Conflict(conflict_message(&constraint)),
            StoreError::Invalid(d) => d.into(),
            StoreError::Internal(m) => Error::Internal(m),
        }
    }
}

/// Human text for each named constraint a write can run into.
pub fn conflict_message(constraint: &str) -> String {
    match constraint {
        "users_email_key" => "a user with this e-mail address already exists".into(),
        "departments_name_key" => "a department with this name already exists".into(),
        "users_department_id_fkey" => "the department does not exist or still has users".into(),
        "customers_name_key" => "a customer with this name already exists".into(),
        "suppliers_name_key" => "a supplier with this name already exists".into(),
        "sla_not_draft" | "sla_status" => {
            "only a draft SLA can be changed or agreed; create a new version instead".into()
        }
        "sla_side" => "this side has already agreed to the SLA".into(),
        "slas_one_draft" => "this SLA already has a draft version; change that one".into(),
        "sla_reports_period_key" | "sla_reports_sla_id_key" => {
            "a report for this SLA and period is already kept".into()
        }
        "delivery_not_retryable" => "only a failed or dead delivery can be retried".into(),
        "foreign_key" => "other records still refer to this one".into(),
        other => format!("conflicts with existing data ({other})"),
    }
}
