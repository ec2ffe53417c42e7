//! A job's `[metrics]` step end to end with a real Prometheus scraping the job's
//! service live (SQLite): a git repository made here holds a python service (stdlib
//! only) that serves `/work`, `/metrics` (a counter of `/work` requests and a constant
//! gauge) and `/ready`, and a bench script that hits `/work` at a known pace for ~5 s
//! and prints one Go benchmark line. Debian's `prometheus` scrapes the service every
//! second; a real `perfwatch worker` runs the queued jobs.
//!
//! - the valid job: `rate`, `increase` and `max_over_time` over exactly the load's
//!   window become results of the stored run, within tolerance of the known pace;
//! - `empty = "error"` on a series that does not exist: the run is stored invalid with
//!   the reason and the verdict is `invalid`;
//! - a required query without data beside a valid one: the run is invalid too, never a
//!   silent `baseline` with a metric missing;
//! - the metrics source down for the whole step: retried, then the run is invalid with
//!   "unreachable" as the reason.
//!
//! The runner picks `$PORT` per run, but Prometheus must know its target in advance,
//! so the service listens on a fixed free port chosen here and written literally into
//! the committed `.perfwatch.toml` and into Prometheus's scrape config.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use perfwatch_backend::store::NewProject;
use perfwatch_github::fake::FakeGitHub;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");
const GH_TOKEN: &str = "ghs_test_token";
/// Requests the valid job's bench makes, and over how many seconds.
const REQUESTS: u32 = 100;
const LOAD_SECS: u32 = 5;
/// The service's constant gauge.
const GAUGE: f64 = 7.0;

/// The service: `/work` counts, `/metrics` is Prometheus text, `/ready` answers 200
/// only once Prometheus has scraped it three times, so the load window never starts
/// before the series has samples (a `rate` needs two).
const SERVICE: &str = r##"import http.server, sys, threading

lock = threading.Lock()
state = {"work": 0, "scrapes": 0}


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code, ctype = 200, "text/plain"
        with lock:
            if self.path == "/work":
                state["work"] += 1
                body = "ok\n"
            elif self.path == "/metrics":
                state["scrapes"] += 1
                ctype = "text/plain; version=0.0.4"
                body = (
                    "# HELP svc_requests_total Requests to /work.\n"
                    "# TYPE svc_requests_total counter\n"
                    "svc_requests_total %d\n"
                    "# HELP svc_queue_depth A constant gauge.\n"
                    "# TYPE svc_queue_depth gauge\n"
                    "svc_queue_depth 7\n" % state["work"]
                )
            elif self.path == "/ready":
                if state["scrapes"] < 3:
                    code = 503
                body = "scrapes %d\n" % state["scrapes"]
            else:
                body = "svc\n"
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"##;

/// The bench: `n` requests to `/work`, evenly paced over `secs` seconds (request i at
/// i × secs / n), then one Go benchmark line.
const BENCH: &str = r#"import sys, time, urllib.request

port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
t0 = time.monotonic()
for i in range(n):
    wait = t0 + i * secs / n - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    opener.open("http://127.0.0.1:%d/work" % port).read()
rest = t0 + secs - time.monotonic()
if rest > 0:
    time.sleep(rest)
print("BenchmarkWork-2   %d   %d ns/op" % (n, int((time.monotonic() - t0) * 1e9 / n)))
"#;

fn definition(
    port: u16,
    prom: &str,
    settle: &str,
    requests: u32,
    secs: u32,
    queries: &str,
) -> String {
    format!(
        r#"[service]
command = "exec python3 svc.py {port}"
ready_url = "http://127.0.0.1:{port}/ready"
ready_timeout = "20s"
stop_timeout = "2s"

[load]
bench = "python3 bench.py {port} {requests} {secs}"
format = "go"
timeout = "30s"

[metrics]
url = "{prom}"
settle = "{settle}"
scrape_interval = "1s"
timeout = "5s"
{queries}"#
    )
}

const GOOD_QUERIES: &str = r#"
[[metrics.query]]
name = "svc_rate"
unit = "1/s"
direction = "higher"
query = 'rate(svc_requests_total[{{window}}])'

[[metrics.query]]
name = "svc_requests"
unit = "requests"
direction = "higher"
query = 'increase(svc_requests_total[{{ window }}])'

[[metrics.query]]
name = "svc_queue_depth"
unit = "items"
direction = "lower"
query = 'max_over_time(svc_queue_depth[{{window}}])'
"#;

/// `empty = "error"` on a series nobody exports: the collection fails.
const ERROR_QUERIES: &str = r#"
[[metrics.query]]
name = "svc_queue_depth"
unit = "items"
query = 'max_over_time(svc_queue_depth[{{window}}])'

[[metrics.query]]
name = "svc_missing_rate"
unit = "1/s"
query = 'rate(svc_missing_total[{{window}}])'
empty = "error"
"#;

/// A required query (the default) without data beside a valid one.
const NO_DATA_QUERIES: &str = r#"
[[metrics.query]]
name = "svc_queue_depth"
unit = "items"
query = 'max_over_time(svc_queue_depth[{{window}}])'

[[metrics.query]]
name = "svc_missing"
unit = "items"
query = 'max_over_time(svc_missing_gauge[{{window}}])'
"#;

// ---- small helpers -------------------------------------------------------------

fn rand_suffix() -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).unwrap();
    hex::encode(r)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "pw-jm-{what}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits `definition` as `.perfwatch.toml` (with the service and bench scripts) and
/// returns the sha.
fn commit(repo: &Path, definition: &str, msg: &str) -> String {
    std::fs::write(repo.join(".perfwatch.toml"), definition).unwrap();
    std::fs::write(repo.join("svc.py"), SERVICE).unwrap();
    std::fs::write(repo.join("bench.py"), BENCH).unwrap();
    run_git(repo, &["add", "-A"]);
    run_git(repo, &["commit", "-q", "-m", msg]);
    run_git(repo, &["rev-parse", "HEAD"])
}

/// Whether `prometheus` is installed; when not and CI does not demand it, say so
/// loudly (past libtest's capture) and skip.
fn prometheus_available() -> bool {
    let found = std::process::Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("PERFWATCH_REQUIRE_PROMETHEUS").is_none(),
            "PERFWATCH_REQUIRE_PROMETHEUS is set but prometheus is not installed"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: prometheus not installed (apt-get install prometheus) ***\n"
        );
    }
    found
}

/// A live Prometheus scraping one target every second; killed when dropped, also when
/// the test fails.
struct Prometheus {
    child: std::process::Child,
    url: String,
    dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    async fn start(target: &str) -> Prometheus {
        let dir = TempDir::new("prom");
        let config = dir.0.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: svc\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("prometheus.log")).unwrap();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let prom = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = client.get(format!("{}/-/ready", prom.url)).send().await;
            if matches!(&r, Ok(r) if r.status().is_success()) {
                return prom;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready in 20 s: {}",
                std::fs::read_to_string(prom.dir.0.join("prometheus.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

/// A `perfwatch worker` process; killed when dropped.
struct Worker {
    _child: tokio::process::Child,
    _dir: TempDir,
}

fn start_worker(db_url: &str) -> Worker {
    let dir = TempDir::new("worker");
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(["worker", "--database-url", db_url])
        .args(["--data-dir", dir.0.to_str().unwrap()])
        .args(["--lease-ms", "10000"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("PW_TEST_WORKER_LOG").unwrap_or_else(|_| "warn".into()),
    );
    Worker {
        _child: cmd.spawn().expect("start perfwatch worker"),
        _dir: dir,
    }
}

struct World {
    app: TestApp,
    _fake: FakeGitHub,
    http: reqwest::Client,
}

impl World {
    async fn new(repo: &Path) -> World {
        let fake = FakeGitHub::start().await;
        fake.require_token(GH_TOKEN);
        let app = spawn_app_with(Db::Sqlite, |c| c.runner_slots = 0).await;
        app.store
            .create_project(&NewProject {
                slug: "svc".into(),
                name: Some("svc".into()),
                main_branch: Some("master".into()),
                repo_url: None,
            })
            .await
            .unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let r = http
            .put(format!("{}/api/v1/projects/svc/github", app.base))
            .bearer_auth(&app.token)
            .json(&json!({
                "repo": "acme/svc",
                "webhook_secret": "whsec-0123456789abcdef",
                "token": GH_TOKEN,
                "api_base": fake.url(),
                "clone_url": repo.to_str().unwrap(),
                "master_branches": ["master"],
                "reconcile_every_s": 0,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        World {
            app,
            _fake: fake,
            http,
        }
    }

    async fn queue(&self, sha: &str) -> i64 {
        let r = self
            .http
            .post(format!("{}/api/v1/projects/svc/jobs", self.app.base))
            .bearer_auth(&self.app.token)
            .json(&json!({ "commit": sha }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        body["id"].as_i64().expect("a job id")
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.app.base))
            .bearer_auth(&self.app.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until job `id` has ended and returns `GET /api/v1/jobs/{id}`.
    async fn ended(&self, id: i64, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let j = self.get(&format!("/api/v1/jobs/{id}")).await;
            let state = j["job"]["state"].as_str().unwrap_or_default();
            if ["processed", "failed", "dead", "canceled", "superseded"].contains(&state) {
                return j;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} not ended in {secs} s: {j}"
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The job's one stored run.
    async fn only_run(&self, job: &Value) -> Value {
        let ids = job["job"]["run_ids"].as_array().expect("run_ids");
        assert_eq!(ids.len(), 1, "one run stored: {job}");
        self.get(&format!("/api/v1/runs/{}", ids[0])).await
    }
}

/// The single sample of the run's series `benchmark`, if stored.
fn value_of(run: &Value, benchmark: &str) -> Option<f64> {
    run["measurements"]
        .as_array()?
        .iter()
        .find(|m| m["series"]["benchmark"] == benchmark)
        .map(|m| {
            let samples = m["samples"].as_array().unwrap();
            assert_eq!(samples.len(), 1, "one value per run: {m}");
            samples[0].as_f64().unwrap()
        })
}

fn invalid_reasons(run: &Value) -> String {
    run["metadata"]["invalid"].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_step_against_live_prometheus() {
    if !prometheus_available() {
        return;
    }
    let t0 = Instant::now();
    let port = free_port();
    let prom = Prometheus::start(&format!("127.0.0.1:{port}")).await;

    let repo = TempDir::new("repo");
    run_git(&repo.0, &["init", "-q", "-b", "master"]);
    let good = commit(
        &repo.0,
        &definition(port, &prom.url, "3s", REQUESTS, LOAD_SECS, GOOD_QUERIES),
        "metrics",
    );
    let error = commit(
        &repo.0,
        &definition(port, &prom.url, "1s", 10, 1, ERROR_QUERIES),
        "a series nobody exports, empty = error",
    );
    let no_data = commit(
        &repo.0,
        &definition(port, &prom.url, "1s", 10, 1, NO_DATA_QUERIES),
        "a required series nobody exports",
    );
    // Nothing listens here: a Prometheus that is down for the whole step.
    let down = commit(
        &repo.0,
        &definition(
            port,
            &format!("http://127.0.0.1:{}", free_port()),
            "1s",
            10,
            1,
            NO_DATA_QUERIES,
        ),
        "the metrics source is down",
    );

    let w = World::new(&repo.0).await;
    let ids = [
        w.queue(&good).await,
        w.queue(&error).await,
        w.queue(&no_data).await,
        w.queue(&down).await,
    ];
    let _worker = start_worker(&w.app.database_url);

    // 1. The valid job: the metric values are results of its run.
    let j = w.ended(ids[0], 40).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(j["job"]["verdict"], "baseline", "{j}");
    let run = w.only_run(&j).await;
    assert!(run["metadata"]["invalid"].is_null(), "a valid run: {run}");
    // Each value keeps its exact query text, window and coverage with the run.
    let metrics = run["metadata"]["metrics"].to_string();
    assert!(
        metrics.contains("svc_requests_total") && metrics.contains("coverage"),
        "{metrics}"
    );
    let window_s = (run["finished_at"].as_i64().unwrap() - run["started_at"].as_i64().unwrap())
        as f64
        / 1000.0;
    let expected_rate = f64::from(REQUESTS) / window_s;
    let rate = value_of(&run, "svc_rate").expect("svc_rate stored");
    let increase = value_of(&run, "svc_requests").expect("svc_requests stored");
    let gauge = value_of(&run, "svc_queue_depth").expect("svc_queue_depth stored");
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "job_metrics: window {window_s:.3} s, rate {rate:.3}/s (expected {expected_rate:.3}), \
             increase {increase:.2} (expected {REQUESTS}), gauge {gauge}\n"
        )
        .as_bytes(),
    );
    assert!(
        (window_s - f64::from(LOAD_SECS)).abs() < 2.0,
        "the run's window is the load's: {window_s} s"
    );
    assert!(
        (rate / expected_rate - 1.0).abs() < 0.2,
        "rate {rate}/s within 20 % of {expected_rate}/s"
    );
    assert!(
        (increase / f64::from(REQUESTS) - 1.0).abs() < 0.2,
        "increase {increase} within 20 % of {REQUESTS}"
    );
    assert_eq!(gauge, GAUGE);
    assert!(
        value_of(&run, "BenchmarkWork").is_some(),
        "the bench's own result is stored beside the metrics: {run}"
    );
    let metrics_step = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "metrics")
        .cloned()
        .expect("a metrics step");
    assert_eq!(metrics_step["outcome"], "ok", "{j}");
    assert!(
        metrics_step["duration_ms"].as_u64().unwrap() >= 2_500,
        "the step waited for the settle delay: {metrics_step}"
    );

    // 2. `empty = "error"` on a series nobody exports: the run is stored invalid with
    // the reason, its metric values are not results, the verdict says so.
    let j = w.ended(ids[1], 30).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(j["job"]["verdict"], "invalid", "{j}");
    let run = w.only_run(&j).await;
    let why = invalid_reasons(&run);
    assert!(
        why.contains("metrics produced no data") && why.contains("svc_missing_rate"),
        "the reason names the query: {why}"
    );
    assert_eq!(value_of(&run, "svc_missing_rate"), None);
    assert!(
        j["report"]
            .as_str()
            .unwrap_or_default()
            // The report is Markdown: the digest escapes `_` in names.
            .contains("svc\\_missing\\_rate"),
        "the report explains the invalid run: {}",
        j["report"]
    );

    // 3. A required query without data beside a valid one: invalid, not a silent
    // baseline with one metric missing.
    let j = w.ended(ids[2], 30).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(j["job"]["verdict"], "invalid", "{j}");
    let run = w.only_run(&j).await;
    let why = invalid_reasons(&run);
    assert!(
        why.contains("svc_missing") && why.contains("no data"),
        "the reason names the query: {why}"
    );
    assert_eq!(value_of(&run, "svc_missing"), None);
    assert_eq!(
        value_of(&run, "svc_queue_depth"),
        Some(7.0),
        "the trustworthy value beside it is kept with the invalid run"
    );

    // 4. The source is down: retried (a blip must not cost the run), then the run is
    // invalid with the reason.
    let j = w.ended(ids[3], 30).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(j["job"]["verdict"], "invalid", "{j}");
    let run = w.only_run(&j).await;
    let why = invalid_reasons(&run);
    assert!(
        why.contains("unreachable") && why.contains("after 4 attempts"),
        "the reason says the source was unreachable: {why}"
    );
    assert_eq!(value_of(&run, "svc_queue_depth"), None);

    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("job_metrics: {:.1} s\n", t0.elapsed().as_secs_f64()).as_bytes(),
    );
    drop(prom);
}
