//! API errors as JSON: `{"error": {"status", "message", "fields": [{"path", "reason"}]}}`.
//! Database text never reaches a response: internal errors are logged with the request
//! id (the one in the `x-request-id` header) and answered with that id only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perfwatch_backend::StoreError;
use perfwatch_core::{FieldError, ValidationErrors};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: vec![],
        }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn invalid(status: StatusCode, e: ValidationErrors) -> Self {
        let message = if status == StatusCode::BAD_REQUEST {
            "malformed request body"
        } else {
            "invalid input"
        };
        Self {
            status,
            message: message.into(),
            fields: e.errors,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            StoreError::Invalid(v) => Self::invalid(StatusCode::UNPROCESSABLE_ENTITY, v),
            StoreError::Conflict { field, reason } => Self {
                status: StatusCode::CONFLICT,
                message: "conflict".into(),
                fields: vec![FieldError::new(field, reason)],
            },
            StoreError::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, why),
            other => {
                let request_id = perfwatch_backend::observe::current_request_id();
                tracing::error!(%request_id, error = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("internal error (request {request_id})"),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "status": self.status.as_u16(),
                "message": self.message,
                "fields": self.fields,
            }
        });
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
