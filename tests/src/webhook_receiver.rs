//! A webhook receiver on 127.0.0.1 that records every delivery it is sent (the
//! subscription, perfwatch's delivery id, the event and its alert group) and answers
//! 200 after a short delay, so deliveries are in flight for a while.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The last path segment of the subscription's URL.
    pub sub: String,
    /// `x-perfwatch-delivery`.
    pub delivery: i64,
    pub event: String,
    pub group_id: Option<i64>,
}

#[derive(Clone)]
struct Rx {
    hits: Arc<Mutex<Vec<Hit>>>,
    delay: Duration,
}

pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook/`: append the subscription's name.
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts the receiver; each request is recorded when it arrives and answered
    /// `delay` later.
    pub async fn start(delay: Duration) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/hook/{sub}", post(hook))
            .with_state(Rx {
                hits: hits.clone(),
                delay,
            });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let base = format!("http://{}/hook/", l.local_addr().expect("an address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Self { base, hits, task }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(
    State(rx): State<Rx>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let delivery = headers
        .get("x-perfwatch-delivery")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .unwrap_or(-1);
    rx.hits.lock().unwrap().push(Hit {
        sub,
        delivery,
        event: v["event"].as_str().unwrap_or_default().to_string(),
        group_id: v["detail"]["group_id"].as_i64(),
    });
    tokio::time::sleep(rx.delay).await;
    StatusCode::OK
}
