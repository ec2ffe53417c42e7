//! The audit log over REST: `GET /api/v1/audit` (global admins, newest first, paged
//! by `before`), the [`Audited`] extractor (who acts, from which address), and
//! [`record_routes`], the route layer that records the REST changes made outside the
//! account code once they succeeded (integration settings, metric sources, job
//! commands) — from the route and the names of the body's fields, never their values,
//! so a secret sent in a body cannot reach the log.

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Query, Request, State};
use axum::http::request::Parts;
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perfwatch_backend::accounts::Actor;
use perfwatch_backend::audit::{Audit, AuditPage, AuditQuery};
use serde_json::{json, Map, Value};

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;

/// The client's IP address (the TCP peer: perfwatch does not trust forwarding headers).
pub fn client_address(ext: &Extensions) -> Option<String> {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
}

/// Who is acting and from where, for an audit row.
pub struct Audited(pub Audit);

impl FromRequestParts<AppState> for Audited {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let actor = parts.extensions.get::<Actor>().cloned().unwrap_or_default();
        Ok(Audited(Audit::of(
            &actor,
            client_address(&parts.extensions),
        )))
    }
}

/// `GET /api/v1/audit?limit=&before=&action=` (global admins): a page of the log.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "admin",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 500 (default 50)"),
        ("before" = Option<i64>, Query, description = "Only entries older than this id (the previous page's `next_before`)"),
        ("action" = Option<String>, Query, description = "An action (`login.failed`) or a family (`job`)")
    ),
    responses((status = 200, description = "Audit entries, newest first", body = AuditPage), ApiErrors)
)]
pub async fn list(
    State(st): State<AppState>,
    Who(actor): Who,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    if actor == Actor::Anonymous {
        return Err(ApiError::unauthorized(
            "the audit log is for administrators: log in or send 'Authorization: Bearer <token>'",
        ));
    }
    Ok(Json(st.store.audit_log(&actor, &q).await?))
}

/// REST routes whose change the account code does not record itself: method, route
/// (under `/api/v1`), action.
pub const AUDITED_ROUTES: &[(&str, &str, &str)] = &[
    ("PUT", "/projects/{slug}/github", "github.integration"),
    (
        "PUT",
        "/projects/{slug}/metric-sources/{name}",
        "metric_source.put",
    ),
    (
        "PUT",
        "/projects/{slug}/metric-sources/{name}/schedule",
        "metric_source.put",
    ),
    ("POST", "/projects/{slug}/jobs", "job.enqueue"),
    ("POST", "/jobs/{id}/cancel", "job.cancel"),
    ("POST", "/jobs/{id}/rerun", "job.rerun"),
    ("PUT", "/projects/{slug}/holidays", "holidays.set"),
];

/// Bodies of these routes are small JSON documents; larger ones are not buffered.
const MAX_BUFFERED: usize = 1 << 20;

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Route layer of `/api/v1`: after a 2xx answer of an [`AUDITED_ROUTES`] route,
/// writes its row (right after the change committed; see `backend/src/audit.rs`).
pub async fn record_routes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().trim_start_matches("/api/v1").to_string())
        .unwrap_or_default();
    let method = req.method().as_str().to_string();
    let Some((_, _, action)) = AUDITED_ROUTES
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
    else {
        return next.run(req).await;
    };
    let actor = req.extensions().get::<Actor>().cloned().unwrap_or_default();
    let who = Audit::of(&actor, client_address(req.extensions()));
    // Inside the nested router the path has lost its `/api/v1` already.
    let target = req
        .uri()
        .path()
        .trim_start_matches("/api/v1")
        .trim_start_matches('/')
        .to_string();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BUFFERED).await else {
        return ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )
        .into_response();
    };
    let fields = keys(&serde_json::from_slice(&bytes).unwrap_or(Value::Null));
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !res.status().is_success() {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = to_bytes(body, MAX_BUFFERED).await.unwrap_or_default();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut details = Map::new();
    if !fields.is_empty() {
        details.insert("fields".into(), json!(fields));
    }
    // The ids an answer names (a queued job, a schedule), never other content.
    for k in ["id", "canceled", "schedule"] {
        if let Some(v) = answer.get(k).filter(|v| v.is_number() || v.is_boolean()) {
            details.insert(k.into(), v.clone());
        }
    }
    st.store
        .audit_after(who.entry(action, target, Value::Object(details)))
        .await;
    Response::from_parts(parts, Body::from(bytes))
}
