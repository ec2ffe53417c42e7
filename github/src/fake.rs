//! A fake GitHub for tests: a real HTTP server on 127.0.0.1 that speaks the REST
//! endpoints perfwatch uses, keeps what clients wrote, records every call and can be
//! told to fail, rate-limit or demand a token. Enabled by the `fake` feature.

pub mod payloads;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use tokio::sync::watch;

pub use payloads::webhook_request;
pub use state::Call;

use crate::api_types::{IssueCommentInfo, PullInfo};
use state::{AppConfig, St};

type Shared = Arc<Mutex<St>>;

/// Locks the state; a panic in another test thread must not wedge the fake.
fn lock(shared: &Shared) -> MutexGuard<'_, St> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Server {
    addr: SocketAddr,
    state: Shared,
    /// Tells the server to shut down; sending twice is harmless.
    shutdown: watch::Sender<bool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // The last clone is gone: stop the server.
        self.shutdown.send_replace(true);
    }
}

/// The fake GitHub. Clones share one server, which stops when the last is dropped.
#[derive(Clone)]
pub struct FakeGitHub {
    server: Arc<Server>,
}

/// Binding 127.0.0.1:0 failed; there is nothing a test can do but stop.
#[derive(Debug, thiserror::Error)]
#[error("fake GitHub could not listen on 127.0.0.1: {0}")]
pub struct StartError(#[from] std::io::Error);

impl FakeGitHub {
    /// Starts a fake on a free port of 127.0.0.1. Needs a tokio runtime.
    ///
    /// # Panics
    /// When 127.0.0.1 cannot be bound (only in tests; see `try_start`).
    pub async fn start() -> FakeGitHub {
        match FakeGitHub::try_start().await {
            Ok(fake) => fake,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a fake, reporting a failure to bind instead of panicking.
    pub async fn try_start() -> Result<FakeGitHub, StartError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state: Shared = Arc::new(Mutex::new(St::new()));
        lock(&state).base_url = format!("http://{addr}");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (shutdown, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            // Graceful shutdown, not abort: it also closes idle keep-alive connections,
            // which a client's pool would otherwise go on using after `stop`. A serve
            // error leaves the port closed, which the test sees as connection refused.
            let signal = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await;
        });
        Ok(FakeGitHub {
            server: Arc::new(Server {
                addr,
                state,
                shutdown,
            }),
        })
    }

    fn st(&self) -> MutexGuard<'_, St> {
        lock(&self.server.state)
    }

    /// Stops the server now (clones see connection refused from then on).
    pub fn stop(&self) {
        self.server.shutdown.send_replace(true);
    }

    /// Base URL, `http://127.0.0.1:PORT`, to use as the client's API base.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.st().calls.clone()
    }

    /// The calls with this method whose path starts with `path_prefix`.
    pub fn calls_to(&self, method: &str, path_prefix: &str) -> Vec<Call> {
        let st = self.st();
        let matching = st
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method) && c.path.starts_with(path_prefix));
        matching.cloned().collect()
    }

    /// Sets the head of `branch` in `repo`.
    pub fn set_branch(&self, repo: &str, branch: &str, sha: &str) {
        self.st()
            .branches
            .insert((repo.to_lowercase(), branch.to_string()), sha.to_string());
    }

    /// Adds or replaces a pull request of `repo`.
    pub fn set_pull(&self, repo: &str, pull: PullInfo) {
        self.st()
            .pulls
            .entry(repo.to_lowercase())
            .or_default()
            .insert(pull.number, pull);
    }

    /// Marks a pull request closed (it leaves the open list).
    pub fn close_pull(&self, repo: &str, number: u64) {
        if let Some(p) = self
            .st()
            .pulls
            .get_mut(&repo.to_lowercase())
            .and_then(|m| m.get_mut(&number))
        {
            p.state = "closed".to_string();
        }
    }

    /// Adds a comment by `user` (e.g. a human's earlier comment); its id.
    pub fn add_comment(&self, repo: &str, number: u64, user: &str, body: &str) -> u64 {
        self.st().add_comment(repo, number, user, body)
    }

    /// The comments of an issue or PR as they are now, after edits.
    pub fn comments(&self, repo: &str, number: u64) -> Vec<IssueCommentInfo> {
        self.st()
            .comments
            .get(&(repo.to_lowercase(), number))
            .cloned()
            .unwrap_or_default()
    }

    /// The statuses posted for a commit, in order.
    pub fn statuses(&self, repo: &str, sha: &str) -> Vec<Value> {
        self.st()
            .statuses
            .get(&(repo.to_lowercase(), sha.to_lowercase()))
            .cloned()
            .unwrap_or_default()
    }

    /// The check runs of `repo` as they are now (each with its `id`), in creation order.
    pub fn check_runs(&self, repo: &str) -> Vec<Value> {
        self.st()
            .check_runs
            .get(&repo.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// The next `n` calls are answered with `status` (e.g. 502) and do nothing.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.st().fail_next = (n, status);
    }

    /// The next call is answered 403 with `x-ratelimit-remaining: 0` and an
    /// `x-ratelimit-reset` `reset_in_secs` from now.
    pub fn rate_limit_next(&self, reset_in_secs: u64) {
        self.st().rate_limit_next = Some(reset_in_secs);
    }

    /// From now on, calls need `Authorization: token <token>` or `Bearer <token>`
    /// (installation tokens the fake issued are accepted too); others get 401.
    pub fn require_token(&self, token: &str) {
        self.st().required_token = Some(token.to_string());
    }

    /// Acts as GitHub for this App: installation-token requests need a JWT with
    /// `iss` = `app_id`, signed by `public_key_pem`'s key when given, and other calls
    /// need an installation token the fake issued.
    pub fn set_app(&self, app_id: u64, public_key_pem: Option<&str>) {
        self.st().app = Some(AppConfig {
            app_id,
            public_key_pem: public_key_pem.map(str::to_string),
        });
    }

    /// Lifetime of installation tokens issued from now on (default one hour).
    pub fn set_token_ttl(&self, secs: i64) {
        self.st().token_ttl_secs = secs;
    }

    /// The installation tokens issued so far, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.st().issued_tokens.clone()
    }
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let reply = {
        let mut st = lock(&state);
        st.calls.push(call.clone());
        routes::respond(&mut st, &call)
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(reply.body)).into_response();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
