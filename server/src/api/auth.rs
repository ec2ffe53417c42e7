//! Who is asking, and may they? One middleware resolves the [`Actor`] of every request
//! (a bearer token, or a session cookie), refuses cross-site writes, and keeps reads
//! private when configured; [`require_rights`] guards every mutating REST route from
//! one table ([`MUTATING_ROUTES`]) and refuses routes missing from it (fail closed).
//! Handlers then read the [`Actor`] ([`Who`]) and leave the project-level decision to
//! the policy (`Actor::require`, in the handler once the project is known or in the
//! use case): a logged-in user is never dressed up as a token.
//!
//! CSRF: unsafe requests (anything but GET/HEAD/OPTIONS) that are not authenticated by
//! a bearer token must come from this origin: `Sec-Fetch-Site` must be `same-origin` or
//! `none` when sent, else `Origin` must match this server; a request with neither
//! header is not from a browser and cannot ride on a victim's cookie. Session cookies
//! are also `SameSite=Lax` and `HttpOnly`.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use perfwatch_backend::accounts::{Actor, Right};
use perfwatch_backend::tokens::TokenCheck;

use super::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "pw_session";

const TOKEN_UNKNOWN: &str = "the API token is unknown or revoked";
const TOKEN_EXPIRED: &str = "token expired: create a new one (an admin can, with `perfwatch token create` or on /admin/tokens)";

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether an unsafe request may come from where it says it comes from.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin.trim_end_matches('/') == public_url {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    matches!((origin.split_once("://"), host), (Some((_, o)), Some(h)) if o == h)
}

/// The request's actor (resolved by [`resolve_actor`]).
pub struct Who(pub Actor);

impl FromRequestParts<AppState> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(Who(parts
            .extensions
            .get::<Actor>()
            .cloned()
            .unwrap_or_default()))
    }
}

/// Resolves the actor of every request; refuses cross-site writes; with
/// `--private-reads`, pages and reads need a login or a token.
pub async fn resolve_actor(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/csp-report" {
        return next.run(req).await;
    }
    let safe = is_safe(req.method());
    let actor = if let Some(secret) = bearer(req.headers()) {
        match perfwatch_backend::tokens::check_token(&state.store, secret).await {
            Ok(TokenCheck::Valid(t)) => Actor::Token(t),
            Ok(TokenCheck::Expired) => {
                return ApiError::unauthorized(TOKEN_EXPIRED).into_response()
            }
            Ok(TokenCheck::Unknown) => {
                return ApiError::unauthorized(TOKEN_UNKNOWN).into_response()
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        if !safe && !same_origin(req.headers(), &state.public_url) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-site request refused (CSRF protection): send it from this site's pages, or use an API token",
            )
            .into_response();
        }
        match session_cookie(req.headers()) {
            Some(secret) => match state.store.session_user(secret).await {
                Ok(Some(u)) => Actor::User(u),
                Ok(None) => Actor::Anonymous,
                Err(e) => return ApiError::from(e).into_response(),
            },
            None => Actor::Anonymous,
        }
    };
    if state.config.private_reads && safe && actor == Actor::Anonymous && path != "/login" {
        return ApiError::unauthorized(
            "this server keeps reads private: log in at /login or send 'Authorization: Bearer <token>'",
        )
        .into_response();
    }
    req.extensions_mut().insert(actor);
    if let Some(a) = super::audit::client_address(req.extensions()) {
        req.extensions_mut()
            .insert(perfwatch_backend::audit::ClientAddress(a));
    }
    next.run(req).await
}

/// What a mutating REST route needs. `project`: the route names its project by
/// `{slug}` (checked here); otherwise the handler or use case checks the project.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub method: &'static str,
    pub path: &'static str,
    pub rights: &'static [Right],
    /// Needs the right on every project (e.g. creating projects, managing tokens).
    pub global: bool,
}

const fn need(
    method: &'static str,
    path: &'static str,
    rights: &'static [Right],
    global: bool,
) -> Need {
    Need {
        method,
        path,
        rights,
        global,
    }
}

/// Every mutating route of `/api/v1` and what it needs.
pub const MUTATING_ROUTES: &[Need] = &[
    need("POST", "/runs", &[Right::Ingest], false),
    need("POST", "/projects", &[Right::Admin], true),
    need(
        "POST",
        "/projects/{slug}/compare/short",
        &[Right::Ingest, Right::Triage],
        false,
    ),
    need("POST", "/annotations", &[Right::Ingest], false),
    need("POST", "/projects/{slug}/detect", &[Right::Ingest], false),
    need(
        "POST",
        "/projects/{slug}/thresholds",
        &[Right::Triage],
        false,
    ),
    need("DELETE", "/thresholds/{id}", &[Right::Triage], false),
    need("POST", "/alert-groups/{id}/state", &[Right::Triage], false),
    need(
        "POST",
        "/alert-groups/{id}/assignee",
        &[Right::Triage],
        false,
    ),
    need("POST", "/alert-groups/{id}/notes", &[Right::Triage], false),
    need("POST", "/alert-groups/{id}/ticket", &[Right::Triage], false),
    need("POST", "/alerts/{id}/state", &[Right::Triage], false),
    need("POST", "/alerts/bulk-state", &[Right::Triage], false),
    need(
        "DELETE",
        "/series/{id}/sensitivity",
        &[Right::Triage],
        false,
    ),
    need(
        "PUT",
        "/projects/{slug}/ticket-template",
        &[Right::Admin],
        false,
    ),
    need("POST", "/projects/{slug}/webhooks", &[Right::Admin], false),
    need("DELETE", "/webhooks/{id}", &[Right::Admin], false),
    need("POST", "/tokens", &[Right::Admin], true),
    need("DELETE", "/tokens/{id}", &[Right::Admin], true),
    need("POST", "/users", &[Right::Admin], true),
    need("POST", "/users/{name}/memberships", &[Right::Admin], true),
    need("POST", "/admin/jobs/{id}/requeue", &[Right::Admin], true),
    need("PUT", "/projects/{slug}/github", &[Right::Admin], false),
    need(
        "POST",
        "/projects/{slug}/jobs",
        &[Right::Admin, Right::Triage],
        false,
    ),
    need("POST", "/jobs/{id}/cancel", &[Right::Triage], false),
    need("POST", "/jobs/{id}/rerun", &[Right::Triage], false),
    need(
        "PUT",
        "/projects/{slug}/metric-sources/{name}",
        &[Right::Admin],
        false,
    ),
    // Calls the source with its stored credentials, though it stores nothing.
    need(
        "POST",
        "/projects/{slug}/metric-sources/{name}/test-query",
        &[Right::Admin],
        false,
    ),
    need("POST", "/runs/{id}/metrics", &[Right::Ingest], false),
    need(
        "PUT",
        "/projects/{slug}/metric-sources/{name}/schedule",
        &[Right::Admin],
        false,
    ),
    need("PUT", "/projects/{slug}/holidays", &[Right::Admin], false),
];

/// Route layer of `/api/v1`: checks [`MUTATING_ROUTES`] before any mutating handler.
pub async fn require_rights(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().trim_start_matches("/api/v1").to_string())
        .unwrap_or_default();
    let method = req.method().as_str().to_string();
    let Some(n) = MUTATING_ROUTES
        .iter()
        .find(|n| n.method == method && n.path == route)
    else {
        tracing::error!(%method, %route, "mutating route missing from MUTATING_ROUTES");
        return ApiError::new(StatusCode::FORBIDDEN, "this route has no declared rights")
            .into_response();
    };
    let actor = req.extensions().get::<Actor>().cloned().unwrap_or_default();
    if actor == Actor::Anonymous {
        return ApiError::unauthorized(
            "this request needs an API token ('Authorization: Bearer <token>') or a login",
        )
        .into_response();
    }
    // The `{slug}` segment of the matched route, read from the request path.
    let slug = {
        let at = route.split('/').position(|s| s == "{slug}");
        let path = req.uri().path().trim_start_matches("/api/v1");
        at.and_then(|i| path.split('/').nth(i)).map(str::to_string)
    };
    let project = match &slug {
        Some(s) => match state.store.project(s).await {
            Ok(p) => Some(p.id),
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let allowed = n.rights.iter().any(|r| {
        if n.global {
            actor.can(*r, None)
        } else if project.is_some() {
            actor.can(*r, project)
        } else {
            actor.can_somewhere(*r)
        }
    });
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{} may not do this: it needs the {} right{}",
                actor.label(),
                n.rights
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                if n.global {
                    " on every project"
                } else if slug.is_some() {
                    " on this project"
                } else {
                    ""
                }
            ),
        )
        .into_response();
    }
    next.run(req).await
}
