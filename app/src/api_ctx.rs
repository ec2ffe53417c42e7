//! What every server function needs on the server: the store, the request's actor
//! (resolved once by the server's middleware from the session cookie or a bearer
//! token), the audit identity, and the mapping of backend errors to [`AppError`].

use leptos::prelude::*;
use perfwatch_backend::accounts::Actor;
use perfwatch_backend::{Store, StoreError};

use crate::api_error::AppError;

/// The store the router provided.
pub fn store() -> Result<Store, AppError> {
    use_context::<Store>().ok_or_else(|| internal("storage is not configured"))
}

/// The request's actor (anonymous when nobody is logged in).
pub fn actor() -> Actor {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Actor>().cloned())
        .unwrap_or_default()
}

/// The actor and the client's address, for audit rows.
pub fn audit() -> perfwatch_backend::audit::Audit {
    let address = use_context::<http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<perfwatch_backend::audit::ClientAddress>()
            .map(|a| a.0.clone())
    });
    perfwatch_backend::audit::Audit::of(&actor(), address)
}

/// The server's sealing key (integration and metric-source secrets).
pub fn seal_key() -> Result<perfwatch_backend::secrets::SealKey, AppError> {
    use_context::<perfwatch_backend::secrets::SealKey>()
        .ok_or_else(|| internal("the sealing key is not configured"))
}

/// Logs `what` under the request id and answers only that id.
pub fn internal(what: impl std::fmt::Display) -> AppError {
    let request_id = perfwatch_backend::observe::current_request_id();
    tracing::error!(%request_id, error = %what, "server function failed");
    AppError::Internal { request_id }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound { what },
            StoreError::Invalid(v) => {
                let mut fields = std::collections::BTreeMap::new();
                for f in v.errors {
                    fields
                        .entry(f.path)
                        .and_modify(|r: &mut String| {
                            r.push_str("; ");
                            r.push_str(&f.reason);
                        })
                        .or_insert(f.reason);
                }
                Self::Invalid { fields }
            }
            StoreError::Conflict { field, reason } => Self::Conflict { field, reason },
            // Anonymous visitors are asked to log in (401), others refused (403).
            StoreError::Forbidden(reason) if actor() == Actor::Anonymous => {
                Self::Unauthorized { reason }
            }
            StoreError::Forbidden(reason) => Self::Forbidden { reason },
            other => internal(other),
        }
    }
}

/// Sets the status of a failed server function's HTTP answer from its error, unless
/// the call is a plain HTML form post, whose answer must stay the framework's
/// redirect back to the form (the error rides in the URL).
pub(crate) fn answer_status(e: &AppError) {
    let html_form = use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if html_form {
        return;
    }
    set_status(e);
}

/// Sets the response status (a page showing `e`, or a server function's answer).
pub fn set_status(e: &AppError) {
    if let (Some(r), Ok(s)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(e.status()),
    ) {
        r.set_status(s);
    }
}
