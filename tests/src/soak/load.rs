//! The mixed load: one tokio task per kind of user, each until the deadline.
//! Ingest is paced (a CI fleet submits at a rate); readers and triagers are closed
//! loops with a short pause, like people and dashboards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use tokio::time::MissedTickBehavior;

use super::record::Recorder;
use super::repo::JobRepo;
use crate::sha;

pub const PROJECT: &str = "soak";
pub const JOBS_PROJECT: &str = "soakjobs";
pub const JOBS_REPO: &str = "acme/soak";
pub const JOBS_SECRET: &str = "whsec-soak-0123456789";
const BENCHMARKS: u64 = 20;
const READ_PAUSE: Duration = Duration::from_millis(50);

/// State shared by the load tasks.
pub struct Shared {
    pub rec: Recorder,
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub deadline: Instant,
    next_commit: AtomicU64,
    /// Acknowledged runs: (commit number, run id).
    pub acked: Mutex<Vec<(u64, i64)>>,
    pub replays: AtomicU64,
    series: Mutex<Vec<i64>>,
    /// Commits pushed to the jobs project.
    pub pushed: Mutex<Vec<String>>,
}

/// The native run of commit number `n`: 20 series; every 200 commits a few of them
/// step up or down by 30 %, so detection finds changes and triage has work.
pub fn soak_run(n: u64) -> Value {
    let results: Vec<Value> = (0..BENCHMARKS)
        .map(|k| {
            let high = (n / 200 + k).is_multiple_of(5);
            let v = (100.0 + 10.0 * k as f64) * if high { 1.3 } else { 1.0 };
            let j = ((n * 31 + k * 17) % 7) as f64 * 0.001;
            json!({
                "benchmark": format!("Bench{k:02}"), "measure": "time", "unit": "ns/op",
                "samples": [v * (0.995 + j), v * (1.0 + j), v * (1.005 + j)]
            })
        })
        .collect();
    json!({
        "project": PROJECT,
        "branch": "main",
        "commit": { "sha": sha(n), "message": format!("soak commit {n}") },
        "testbed": "ci-linux",
        "run_key": format!("soak-{n}"),
        "results": results,
    })
}

impl Shared {
    pub fn new(base: String, token: String, deadline: Instant) -> Self {
        Self {
            rec: Recorder::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            base,
            token,
            deadline,
            next_commit: AtomicU64::new(1),
            acked: Mutex::default(),
            replays: AtomicU64::new(0),
            series: Mutex::default(),
            pushed: Mutex::default(),
        }
    }

    fn running(&self) -> bool {
        Instant::now() < self.deadline
    }

    /// Sends one request of `kind`, records its latency and status; any answer but
    /// 2xx/3xx (or none) is a violation. Returns the status and body when answered.
    async fn send(
        &self,
        kind: &'static str,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Option<(u16, Vec<u8>)> {
        self.send_allowing(kind, what, req, &[]).await
    }

    /// [`Self::send`] where the statuses in `allowed` are expected answers too.
    async fn send_allowing(
        &self,
        kind: &'static str,
        what: &str,
        req: reqwest::RequestBuilder,
        allowed: &[u16],
    ) -> Option<(u16, Vec<u8>)> {
        let t = Instant::now();
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.rec.answer(kind, t.elapsed(), 0);
                self.rec.violation(format!("{kind} {what}: no answer: {e}"));
                return None;
            }
        };
        let status = res.status().as_u16();
        let body = res.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        self.rec.answer(kind, t.elapsed(), status);
        if !(200..400).contains(&status) && !allowed.contains(&status) {
            let text = String::from_utf8_lossy(&body);
            self.rec.violation(format!(
                "{kind} {what}: HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ));
        }
        Some((status, body))
    }

    async fn get(&self, kind: &'static str, path: &str) -> Option<Value> {
        let (status, body) = self
            .send(kind, path, self.http.get(format!("{}{path}", self.base)))
            .await?;
        (status == 200)
            .then(|| serde_json::from_slice(&body).ok())
            .flatten()
    }

    async fn post(&self, kind: &'static str, path: &str, body: &Value) -> Option<(u16, Value)> {
        self.post_allowing(kind, path, body, &[]).await
    }

    async fn post_allowing(
        &self,
        kind: &'static str,
        path: &str,
        body: &Value,
        allowed: &[u16],
    ) -> Option<(u16, Value)> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body);
        let (status, body) = self.send_allowing(kind, path, req, allowed).await?;
        Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    fn random_acked(&self, r: &mut ChaCha8Rng) -> Option<(u64, i64)> {
        let a = self.acked.lock().unwrap();
        (!a.is_empty()).then(|| a[r.random_range(0..a.len())])
    }

    fn random_series(&self, r: &mut ChaCha8Rng) -> Option<i64> {
        let s = self.series.lock().unwrap();
        (!s.is_empty()).then(|| s[r.random_range(0..s.len())])
    }
}

/// Submits runs at `per_second`; every tenth submission repeats an acknowledged run
/// (same key), which must answer 200 with the same run id and store nothing.
pub async fn ingester(s: Arc<Shared>, per_second: f64, seed: u64) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut i = 0u64;
    while s.running() {
        tick.tick().await;
        i += 1;
        if i.is_multiple_of(10) {
            if let Some((n, id)) = s.random_acked(&mut r) {
                s.replays.fetch_add(1, Ordering::Relaxed);
                if let Some((status, v)) = s.post("ingest", "/api/v1/runs", &soak_run(n)).await {
                    if status != 200 || v["duplicate"] != true || v["run_id"] != id {
                        s.rec.violation(format!(
                            "repeated run soak-{n}: HTTP {status} {v}, expected 200, duplicate, run {id}"
                        ));
                    }
                }
                continue;
            }
        }
        let n = s.next_commit.fetch_add(1, Ordering::Relaxed);
        if let Some((status, v)) = s.post("ingest", "/api/v1/runs", &soak_run(n)).await {
            match (status, v["run_id"].as_i64()) {
                (201, Some(id)) => s.acked.lock().unwrap().push((n, id)),
                _ => s
                    .rec
                    .violation(format!("new run soak-{n}: HTTP {status} {v}")),
            }
        }
    }
}

/// Server-rendered pages, as a browser asks for them.
pub async fn page_reader(s: Arc<Shared>, seed: u64) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut i = 0u64;
    while s.running() {
        i += 1;
        let path = match (i % 7, s.random_series(&mut r), s.random_acked(&mut r)) {
            (1, ..) => format!("/projects/{PROJECT}"),
            (2, ..) => "/alerts".to_string(),
            (3, Some(id), _) => format!("/series/{id}"),
            (4, _, Some((_, run))) => format!("/runs/{run}"),
            (5, _, Some((n, _))) => format!(
                "/projects/{PROJECT}/compare?base=commit:{}&head=commit:{}",
                sha(n.saturating_sub(50).max(1)),
                sha(n)
            ),
            (6, ..) => "/queue".to_string(),
            _ => "/".to_string(),
        };
        s.get("page", &path).await;
        tokio::time::sleep(READ_PAUSE).await;
    }
}

/// JSON reads of the REST API; keeps the list of series for the other readers.
pub async fn api_reader(s: Arc<Shared>, seed: u64) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut i = 0u64;
    while s.running() {
        i += 1;
        match (i % 5, s.random_series(&mut r), s.random_acked(&mut r)) {
            (1, Some(id), _) => {
                s.get("api", &format!("/api/v1/series/{id}/points")).await;
            }
            (2, ..) => {
                s.get("api", &format!("/api/v1/alerts?project={PROJECT}"))
                    .await;
            }
            (3, _, Some((_, run))) => {
                s.get("api", &format!("/api/v1/runs/{run}")).await;
            }
            (4, ..) => {
                s.get("api", &format!("/api/v1/projects/{JOBS_PROJECT}/jobs"))
                    .await;
            }
            _ => {
                if let Some(v) = s
                    .get("api", &format!("/api/v1/projects/{PROJECT}/series"))
                    .await
                {
                    let ids: Vec<i64> = v
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x["id"].as_i64()).collect())
                        .unwrap_or_default();
                    *s.series.lock().unwrap() = ids;
                }
            }
        }
        tokio::time::sleep(READ_PAUSE).await;
    }
}

/// Comparisons of two acknowledged commits through the API.
pub async fn comparer(s: Arc<Shared>, seed: u64) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    while s.running() {
        if let (Some((a, _)), Some((b, _))) = (s.random_acked(&mut r), s.random_acked(&mut r)) {
            let path = format!(
                "/api/v1/projects/{PROJECT}/compare?base=commit:{}&head=commit:{}",
                sha(a.min(b)),
                sha(a.max(b))
            );
            s.get("compare", &path).await;
        }
        tokio::time::sleep(READ_PAUSE).await;
    }
}

/// Triage of the alerts detection raised: group state, notes, alert state. A 404 is
/// an expected answer: a concurrent detection pass may merge the group into another
/// (or move the alert) between the list and the action.
pub async fn triager(s: Arc<Shared>, seed: u64) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut i = 0u64;
    while s.running() {
        tokio::time::sleep(READ_PAUSE * 4).await;
        let Some(alerts) = s
            .get("api", &format!("/api/v1/alerts?project={PROJECT}"))
            .await
        else {
            continue;
        };
        let alerts = alerts.as_array().cloned().unwrap_or_default();
        if alerts.is_empty() {
            continue;
        }
        let a = &alerts[r.random_range(0..alerts.len())];
        i += 1;
        let state = if i.is_multiple_of(2) {
            "acknowledged"
        } else {
            "untriaged"
        };
        if let (Some(g), true) = (a["group_id"].as_i64(), !i.is_multiple_of(3)) {
            s.post_allowing(
                "triage",
                &format!("/api/v1/alert-groups/{g}/state"),
                &json!({ "state": state }),
                &[404],
            )
            .await;
            s.post_allowing(
                "triage",
                &format!("/api/v1/alert-groups/{g}/notes"),
                &json!({ "body": format!("soak note {i}") }),
                &[404],
            )
            .await;
        } else if let Some(id) = a["id"].as_i64() {
            s.post_allowing(
                "triage",
                &format!("/api/v1/alerts/{id}/state"),
                &json!({ "state": state }),
                &[404],
            )
            .await;
        }
    }
}

/// Pushes a new commit of the jobs repository every `every` (a signed GitHub push
/// webhook): each becomes one master job that a `perfwatch worker` runs.
pub async fn pusher(s: Arc<Shared>, mut repo: JobRepo, every: Duration) -> JobRepo {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while s.running() {
        tick.tick().await;
        let before = repo.head().to_string();
        let sha = match repo.commit() {
            Ok(sha) => sha,
            Err(e) => {
                s.rec
                    .violation(format!("git commit in the jobs repository: {e:#}"));
                break;
            }
        };
        let body = perfwatch_github::fake::payloads::push(JOBS_REPO, "master", &before, &sha);
        let bytes = serde_json::to_vec(&body).expect("JSON");
        let req = s
            .http
            .post(format!("{}/api/v1/github/webhook", s.base))
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", format!("soak-{sha}"))
            .header(
                "X-Hub-Signature-256",
                perfwatch_github::signature::sign(JOBS_SECRET.as_bytes(), &bytes),
            )
            .header("Content-Type", "application/json")
            .body(bytes);
        if let Some((202, _)) = s.send("webhook", "/api/v1/github/webhook", req).await {
            s.pushed.lock().unwrap().push(sha);
        } else {
            s.rec
                .violation(format!("push of {sha} not accepted with 202"));
        }
    }
    repo
}

/// Samples the server's RSS every `every` until the deadline.
pub async fn rss_sampler(s: Arc<Shared>, pid: u32, every: Duration) {
    while s.running() {
        match crate::procs::rss_bytes(pid) {
            Some(b) => s.rec.rss_sample(b),
            None => s
                .rec
                .violation(format!("no RSS for pid {pid}: the server is gone")),
        }
        tokio::time::sleep(every).await;
    }
}
