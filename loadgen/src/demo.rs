//! `perfwatch demo-service`: a small identities/groups service to point scenarios at
//! (examples/groups.toml), with a fixed latency, a capacity limit, failure injection and
//! a stall switch. Also the service the engine's own tests load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Default)]
pub struct DemoConfig {
    /// Added to every request (after a capacity slot is taken).
    pub latency: Duration,
    /// At most this many requests are served at once; the rest wait (a known capacity
    /// of `capacity / latency` requests per second).
    pub capacity: Option<usize>,
    /// Every n-th request answers 503.
    pub fail_every: Option<u64>,
    /// The n-th request (1-based) stalls for `stall_for`, and so does everything that
    /// arrives during the stall.
    pub stall_at: Option<u64>,
    pub stall_for: Duration,
}

#[derive(Default)]
struct Data {
    next_id: u64,
    /// token → identity id
    identities: HashMap<String, u64>,
    /// group id → (owner identity, members)
    groups: HashMap<u64, (u64, Vec<u64>)>,
}

struct Demo {
    config: DemoConfig,
    slots: Option<Semaphore>,
    requests: AtomicU64,
    stall_until: Mutex<Option<Instant>>,
    data: Mutex<Data>,
}

type Shared = Arc<Demo>;

impl Demo {
    /// Applies stall, capacity, latency and failure injection; Err is the answer to give.
    async fn admit(&self) -> Result<(), Response> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if self.config.stall_at == Some(n) {
            *self.stall_until.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + self.config.stall_for);
        }
        let until = *self.stall_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = until.filter(|t| *t > Instant::now()) {
            tokio::time::sleep_until(t.into()).await;
        }
        let _slot = match &self.slots {
            Some(s) => Some(
                s.acquire()
                    .await
                    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())?,
            ),
            None => None,
        };
        if !self.config.latency.is_zero() {
            tokio::time::sleep(self.config.latency).await;
        }
        if self
            .config
            .fail_every
            .is_some_and(|k| k > 0 && n.is_multiple_of(k))
        {
            return Err((StatusCode::SERVICE_UNAVAILABLE, "injected failure").into_response());
        }
        Ok(())
    }

    fn identity(&self, headers: &HeaderMap) -> Option<u64> {
        let token = headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        self.data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .identities
            .get(token)
            .copied()
    }
}

pub fn router(config: DemoConfig) -> Router {
    let slots = config.capacity.map(Semaphore::new);
    let demo = Arc::new(Demo {
        config,
        slots,
        requests: AtomicU64::new(0),
        stall_until: Mutex::new(None),
        data: Mutex::new(Data::default()),
    });
    Router::new()
        .route(
            "/version",
            get(|| async { concat!("demo-service ", env!("CARGO_PKG_VERSION")) }),
        )
        .route("/null", get(|| async { "" }))
        .route("/work", get(work))
        .route("/status/{code}", get(status))
        .route("/not-json", get(not_json))
        .route("/identities", post(create_identity))
        .route("/groups", post(create_group))
        .route("/groups/{gid}", get(show_group))
        .route("/groups/{gid}/members", post(add_member))
        .route("/admin/stall", post(stall))
        .with_state(demo)
}

/// Serves on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, config: DemoConfig) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

async fn work(State(d): State<Shared>) -> Response {
    match d.admit().await {
        Ok(()) => "done".into_response(),
        Err(r) => r,
    }
}

async fn status(State(d): State<Shared>, Path(code): Path<u16>) -> Response {
    if let Err(r) = d.admit().await {
        return r;
    }
    StatusCode::from_u16(code)
        .unwrap_or(StatusCode::BAD_REQUEST)
        .into_response()
}

async fn not_json(State(d): State<Shared>) -> Response {
    match d.admit().await {
        Ok(()) => "this is not json".into_response(),
        Err(r) => r,
    }
}

async fn create_identity(State(d): State<Shared>) -> Response {
    if let Err(r) = d.admit().await {
        return r;
    }
    let mut data = d.data.lock().unwrap_or_else(|e| e.into_inner());
    data.next_id += 1;
    let id = data.next_id;
    let token = format!("tok-{id}-{:x}", id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    data.identities.insert(token.clone(), id);
    (StatusCode::CREATED, Json(json!({"id": id, "token": token}))).into_response()
}

async fn create_group(State(d): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = d.admit().await {
        return r;
    }
    let Some(owner) = d.identity(&headers) else {
        return (StatusCode::UNAUTHORIZED, "unknown token").into_response();
    };
    let mut data = d.data.lock().unwrap_or_else(|e| e.into_inner());
    data.next_id += 1;
    let gid = data.next_id;
    data.groups.insert(gid, (owner, vec![owner]));
    (
        StatusCode::CREATED,
        Json(json!({"id": gid, "owner": owner})),
    )
        .into_response()
}

async fn show_group(State(d): State<Shared>, Path(gid): Path<u64>) -> Response {
    if let Err(r) = d.admit().await {
        return r;
    }
    let data = d.data.lock().unwrap_or_else(|e| e.into_inner());
    match data.groups.get(&gid) {
        Some((owner, members)) => {
            Json(json!({"id": gid, "owner": owner, "members": members})).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such group").into_response(),
    }
}

async fn add_member(State(d): State<Shared>, Path(gid): Path<u64>, headers: HeaderMap) -> Response {
    if let Err(r) = d.admit().await {
        return r;
    }
    let Some(who) = d.identity(&headers) else {
        return (StatusCode::UNAUTHORIZED, "unknown token").into_response();
    };
    let mut data = d.data.lock().unwrap_or_else(|e| e.into_inner());
    data.next_id += 1;
    let member = data.next_id;
    match data.groups.get_mut(&gid) {
        None => (StatusCode::NOT_FOUND, "no such group").into_response(),
        Some((owner, _)) if *owner != who => {
            (StatusCode::FORBIDDEN, "not the group's owner").into_response()
        }
        Some((_, members)) => {
            members.push(member);
            (
                StatusCode::CREATED,
                Json(json!({"group": gid, "member": member, "members": members.len()})),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct StallQuery {
    ms: u64,
}

/// The stall switch: everything arriving in the next `ms` milliseconds waits until then.
async fn stall(State(d): State<Shared>, Query(q): Query<StallQuery>) -> Response {
    let until = Instant::now() + Duration::from_millis(q.ms.min(60_000));
    *d.stall_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
    (StatusCode::OK, format!("stalling for {} ms", q.ms)).into_response()
}
