//! Storage and use-case errors. Database text never leaves this layer in a response:
//! `Internal` is logged with context and shown as "internal error".

use perfwatch_core::ValidationErrors;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid input")]
    Invalid(ValidationErrors),
    #[error("conflict on {field}: {reason}")]
    Conflict { field: String, reason: String },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("data error: {0}")]
    Data(String),
}

impl StoreError {
    pub fn invalid(path: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors {
            errors: vec![perfwatch_core::FieldError::new(path, reason)],
        })
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Data(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
