//! Token authentication. Writes always need `Authorization: Bearer <token>`; reads
//! need one only when the server runs with `--private-reads`.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use perfwatch_backend::tokens::TokenInfo;

use super::error::ApiError;
use crate::state::AppState;

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A verified, unrevoked API token.
pub struct Token(pub TokenInfo);

impl FromRequestParts<AppState> for Token {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(secret) = bearer(parts) else {
            return Err(ApiError::unauthorized(
                "this request needs an API token: send 'Authorization: Bearer <token>' (create one with `perfwatch token create`)",
            ));
        };
        match state.store.verify_token(secret).await? {
            Some(info) => Ok(Token(info)),
            None => Err(ApiError::unauthorized(
                "the API token is unknown or revoked",
            )),
        }
    }
}

/// With `--private-reads`, every request but static assets and health checks needs a
/// valid token.
pub async fn private_reads(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.config.private_reads
        || req.uri().path().starts_with("/pkg/")
        || req.uri().path() == "/healthz"
        || req.method() != Method::GET
    {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match Token::from_request_parts(&mut parts, &state).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => e.into_response(),
    }
}
