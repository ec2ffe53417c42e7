//! API errors as JSON: `{"error": {"status", "message", "fields": [{"path", "reason"}]}}`.
//! Database text never reaches a response: internal errors are logged with the request
//! id (the one in the `x-request-id` header) and answered with that id only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perfwatch_backend::StoreError;
use perfwatch_core::{FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::openapi::{RefOr, Response as DocResponse, ResponseBuilder};
use utoipa::ToSchema;

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

/// The body of every error answer of the API.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"status": 422, "message": "invalid input",
    "fields": [{"path": "results[0].samples[1]", "reason": "must be a finite number"}]}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status again, for clients that only keep the body.
    pub status: u16,
    /// What went wrong; for internal errors only `internal error (request <id>)`.
    pub message: String,
    /// Every offending field with its JSON path (empty when no field is at fault).
    pub fields: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                message: self.message,
                fields: self.fields,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// The error answers every documented route may give, all with [`ErrorBody`]
/// (listed once here so that each route's annotation stays short).
pub struct ApiErrors;

impl utoipa::IntoResponses for ApiErrors {
    fn responses() -> std::collections::BTreeMap<String, RefOr<DocResponse>> {
        [
            (
                "400",
                "Malformed request: body, query or path parameter (fields name the culprits)",
            ),
            ("401", "No or an unknown token/session where one is needed"),
            (
                "403",
                "Authenticated, but without the right needed (or a cross-site write)",
            ),
            ("404", "What the path names does not exist"),
            (
                "409",
                "Conflicts with the current state (fields name the culprit)",
            ),
            ("413", "The body is larger than the server's limit"),
            (
                "415",
                "A JSON body sent without `Content-Type: application/json`",
            ),
            (
                "422",
                "Well-formed but invalid input (fields name every culprit)",
            ),
            (
                "500",
                "Internal error: only `internal error (request <id>)`, the id is in the log",
            ),
        ]
        .into_iter()
        .map(|(code, what)| {
            let r = ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build();
            (code.to_string(), RefOr::T(r))
        })
        .collect()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
