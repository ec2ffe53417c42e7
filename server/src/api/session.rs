//! Log in and out: `POST /auth/login` (form: name, password, next) sets the session
//! cookie (HttpOnly, SameSite=Lax, Secure when configured or the public URL is https);
//! `POST /auth/logout` ends the session; `POST /auth/logout-all` ends every session of
//! the logged-in user ("log out everywhere"; API tokens keep working). All are plain
//! form posts (work without JavaScript) and pass the CSRF origin check of
//! `resolve_actor` first.
//!
//! A login always starts a new session and ends the one of the cookie the browser
//! brought (session fixation: an id planted before the login never becomes a
//! logged-in session). Each of these writes its audit row in the same transaction.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use axum::Form;
use perfwatch_backend::accounts::Actor;
use perfwatch_backend::login_guard::{account_key, address_key};
use serde::Deserialize;

use super::audit::Audited;
use super::auth::{session_cookie, Who, SESSION_COOKIE};
use super::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

// By hand: password must never reach a log line.
impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("name", &self.name)
            .field(
                "password",
                &perfwatch_core::redact::Redacted(&self.password),
            )
            .field("next", &self.next)
            .finish()
    }
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

/// Back to the login form with `error` (and what else the page should say).
fn back_to_form(next: &str, error: &str) -> Response {
    let to = format!(
        "/login?error={error}&next={}",
        perfwatch_core::chart::encode(next)
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// Checks the password under the login guard: a name or address still waiting after
/// failed attempts is refused before any check (the page says how long), and at most a
/// few checks run at once.
pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let address = peer
        .as_ref()
        .map(|Extension(ConnectInfo(a))| a.ip().to_string());
    let next = safe_next(f.next.as_deref());
    let guard = &state.login_guard;
    let mut keys = vec![account_key(&f.name)];
    if let Some(Extension(ConnectInfo(addr))) = peer {
        keys.push(address_key(addr.ip()));
    }
    let wait = guard.wait(&keys, Instant::now());
    if !wait.is_zero() {
        state.metrics.observe_login("throttled");
        let secs = wait.as_secs_f64().ceil() as u64;
        let mut resp = back_to_form(&next, &format!("throttled&retry={secs}"));
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        return Ok(resp);
    }
    let Some(_slot) = guard.hash_slot().await else {
        state.metrics.observe_login("busy");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many logins at once: try again in a few seconds",
        ));
    };
    match perfwatch_backend::accounts::check_password(&state.store, f.name.trim(), &f.password)
        .await?
    {
        Some(user_id) => {
            guard.succeeded(&keys[0]);
            state.metrics.observe_login("ok");
            let secret = state
                .store
                .start_session(user_id, session_cookie(&headers), address)
                .await?;
            let max_age = perfwatch_backend::accounts::SESSION_TTL_MS / 1000;
            Ok((
                [(header::SET_COOKIE, cookie(&state, &secret, max_age))],
                Redirect::to(&next),
            )
                .into_response())
        }
        None => {
            guard.failed(&keys, Instant::now());
            state.metrics.observe_login("wrong");
            state.store.login_failed(&f.name, address).await;
            Ok(back_to_form(&next, "1"))
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Audited(who): Audited,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        state.store.end_session(secret, who.address).await?;
    }
    Ok((
        [(header::SET_COOKIE, cookie(&state, "", 0))],
        Redirect::to("/"),
    )
        .into_response())
}

/// "Log out everywhere": every session of the logged-in user ends (this one too), then
/// back to the login page. API tokens are not sessions and keep working.
pub async fn logout_all(
    State(state): State<AppState>,
    Who(actor): Who,
    Audited(who): Audited,
) -> Result<Response, ApiError> {
    let user = match &actor {
        Actor::User(u) => u,
        Actor::Token(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "log out everywhere ends login sessions: an API token is revoked instead (DELETE /api/v1/tokens/{id})",
            ));
        }
        Actor::Anonymous => {
            return Err(ApiError::unauthorized(
                "log in first: there is no session to end",
            ));
        }
    };
    state.store.end_all_sessions(user.id, who.address).await?;
    Ok((
        [(header::SET_COOKIE, cookie(&state, "", 0))],
        Redirect::to("/login?ended=all"),
    )
        .into_response())
}
