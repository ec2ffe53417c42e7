//! Log in and out: `POST /auth/login` (form: name, password, next) sets the session
//! cookie (HttpOnly, SameSite=Lax, Secure when configured or the public URL is https);
//! `POST /auth/logout` ends the session. Both are plain form posts (work without
//! JavaScript) and pass the CSRF origin check of `resolve_actor` first.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::{session_cookie, SESSION_COOKIE};
use super::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = state.config.secure_cookies || state.public_url.starts_with("https://");
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub async fn login(
    State(state): State<AppState>,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(f.next.as_deref());
    match state
        .store
        .check_password(f.name.trim(), &f.password)
        .await?
    {
        Some(user_id) => {
            let secret = state.store.create_session(user_id).await?;
            let max_age = perfwatch_backend::accounts::SESSION_TTL_MS / 1000;
            Ok((
                [(header::SET_COOKIE, cookie(&state, &secret, max_age))],
                Redirect::to(&next),
            )
                .into_response())
        }
        None => {
            let to = format!(
                "/login?error=1&next={}",
                perfwatch_core::chart::encode(&next)
            );
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        state.store.delete_session(secret).await?;
    }
    Ok((
        [(header::SET_COOKIE, cookie(&state, "", 0))],
        Redirect::to("/"),
    )
        .into_response())
}
