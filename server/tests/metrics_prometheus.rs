//! `GET /metrics` scraped by a real Prometheus (Debian's `prometheus` package, started
//! by the test on 127.0.0.1): what the server counted is what Prometheus stores.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perfwatch_server::testing::{create_rights_projects, spawn_app, spawn_app_with, Db, TestApp};
use serde_json::{json, Value};

/// The Prometheus process; killed when dropped, also when the test fails.
struct Prometheus {
    child: Child,
    base: String,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn prometheus_binary() -> String {
    std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".into())
}

async fn start_prometheus(target: &str) -> Prometheus {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random bytes");
    let dir = std::env::temp_dir().join(format!("perfwatch-prom-{}", hex::encode(b)));
    std::fs::create_dir_all(dir.join("data")).expect("a prometheus dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: perfwatch\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("write the prometheus config");
    let port = free_port();
    let child = Command::new(prometheus_binary())
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus (apt-get install prometheus; scripts/setup.sh --test does)");
    let prom = Prometheus {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: TempDir(dir),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/-/ready", prom.base)).await;
        if matches!(&ready, Ok(r) if r.status().is_success()) {
            return prom;
        }
        assert!(Instant::now() < deadline, "prometheus not ready in 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The value of an instant query with one result, or None while it has none.
async fn query_one(prom: &Prometheus, q: &str) -> Option<f64> {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/query", prom.base))
        .query(&[("query", q)])
        .send()
        .await
        .ok()?;
    let body: Value = res.json().await.ok()?;
    let result = body["data"]["result"].as_array()?;
    let [one] = result.as_slice() else {
        return None;
    };
    one["value"][1].as_str()?.parse().ok()
}

/// Polls `q` until Prometheus has scraped the value `want`.
async fn wait_for(prom: &Prometheus, q: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    while Instant::now() < deadline {
        last = query_one(prom, q).await;
        if last == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{q}: wanted {want}, Prometheus has {last:?}");
}

/// Submits `body` with the app's token; the status and the answer's `x-request-id`.
async fn submit(app: &TestApp, body: &Value) -> (u16, String) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/runs", app.base))
        .bearer_auth(&app.token)
        .json(body)
        .send()
        .await
        .expect("submit");
    let id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (res.status().as_u16(), id)
}

/// `GET /metrics`, with the app's token when `token`; the status and the text.
async fn scrape(app: &TestApp, token: bool) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", app.base));
    if token {
        req = req.bearer_auth(&app.token);
    }
    let res = req.send().await.expect("metrics");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

fn run(i: u64) -> Value {
    json!({
        "project": "drv",
        "run_key": format!("metrics-{i}"),
        "commit": {"sha": format!("{:040x}", 0xabc000 + i)},
        "results": [
            {"benchmark": "insert", "measure": "time", "unit": "ns", "samples": [100.0]},
            {"benchmark": "find", "measure": "time", "unit": "ns", "samples": [50.0]},
            {"benchmark": "scan", "measure": "time", "unit": "ns", "samples": [900.0]},
        ],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_request_ingest_and_build_metrics() {
    let app = spawn_app(Db::Sqlite).await;
    create_rights_projects(&app.store).await;
    for i in 0..4 {
        let (status, id) = submit(&app, &run(i)).await;
        assert_eq!(status, 201);
        assert_eq!(id.len(), 16, "request id {id:?}");
    }
    // A repeat of a run key is a duplicate: counted as such, no points.
    assert_eq!(submit(&app, &run(0)).await.0, 200);
    let page = reqwest::get(format!("{}/projects/drv", app.base))
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);

    let res = reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("metrics");
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/openmetrics-text"));
    let (status, text) = scrape(&app, false).await;
    assert_eq!(status, 200);
    for line in [
        r#"perfwatch_http_requests_total{method="POST",route="/api/v1/runs",status="201"} 4"#,
        r#"perfwatch_http_requests_total{method="POST",route="/api/v1/runs",status="200"} 1"#,
        r#"perfwatch_http_requests_total{method="GET",route="/projects/{slug}",status="200"} 1"#,
        r#"perfwatch_ingest_runs_total{outcome="stored"} 4"#,
        r#"perfwatch_ingest_runs_total{outcome="duplicate"} 1"#,
        "perfwatch_ingest_points_total 12",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    let prom = start_prometheus(&app.addr.to_string()).await;
    wait_for(&prom, r#"up{job="perfwatch"}"#, 1.0).await;
    wait_for(&prom, "perfwatch_ingest_points_total", 12.0).await;
    wait_for(
        &prom,
        r#"perfwatch_http_request_duration_seconds_count{method="POST",route="/api/v1/runs"}"#,
        5.0,
    )
    .await;
    wait_for(&prom, "perfwatch_build_info", 1.0).await;
    // Prometheus's own scrapes are counted too: the counter grows between scrapes.
    let scrapes = r#"perfwatch_http_requests_total{method="GET",route="/metrics",status="200"}"#;
    let first = query_one(&prom, scrapes).await.expect("scrapes counted");
    let deadline = Instant::now() + Duration::from_secs(20);
    while query_one(&prom, scrapes).await.unwrap_or(0.0) <= first {
        assert!(Instant::now() < deadline, "scrape counter did not grow");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_reads_keep_metrics_behind_a_token() {
    let app = spawn_app_with(Db::Sqlite, |c| c.private_reads = true).await;
    assert_eq!(scrape(&app, false).await.0, 401);
    let (status, text) = scrape(&app, true).await;
    assert_eq!(status, 200);
    assert!(text.contains("perfwatch_build_info"));
    // Unknown paths share one label instead of growing the label space.
    let _ = reqwest::Client::new()
        .get(format!("{}/no/such/{}", app.base, "x".repeat(20)))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("unknown path");
    let (_, text) = scrape(&app, true).await;
    assert!(
        text.contains(
            r#"perfwatch_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("/no/such"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_follow_ups_show_in_the_queue_gauges() {
    // Workers held back, so the detection pass the run queues stays queued.
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.detect_inline = false;
        c.worker_start_delay = Duration::from_secs(600);
    })
    .await;
    create_rights_projects(&app.store).await;
    assert_eq!(submit(&app, &run(1)).await.0, 201);
    let (_, text) = scrape(&app, false).await;
    assert!(
        text.contains(r#"perfwatch_queue_jobs{kind="detect.series",state="queued"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"perfwatch_queue_oldest_age_seconds{kind="detect.series",state="queued"}"#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_counted_by_kind_and_outcome() {
    let app = spawn_app_with(Db::Sqlite, |c| c.detect_inline = false).await;
    create_rights_projects(&app.store).await;
    assert_eq!(submit(&app, &run(1)).await.0, 201);
    let want = r#"perfwatch_queue_job_outcomes_total{kind="detect.series",outcome="done"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, text) = scrape(&app, false).await;
        if text.contains(want) {
            assert!(
                !text.contains(r#"perfwatch_queue_jobs{kind="detect.series",state="queued"}"#),
                "{text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no {want:?} in\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
