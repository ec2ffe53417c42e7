//! Other load tools' results as perfwatch runs (issue 12, item 12): `perfwatch submit`
//! with Locust's CSV stats, oha's JSON, vegeta's JSON report, k6's machine-readable
//! summary (one run) and Goose's JSON report (a second run: its `GET /` is the same
//! series as Locust's, which one run cannot hold twice), each format detected, stored
//! by a server the test starts on 127.0.0.1 with a fresh SQLite database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::process::Output;

use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

fn own(rel: &str) -> String {
    format!(
        "{}/../parsers/tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn submit(app: &TestApp, commit: u64, files: &[String]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("submit")
        .args(["--project", "loadtools", "--branch", "main"])
        .args(["--commit", &format!("{commit:040x}")])
        .args(files)
        .current_dir(std::env::temp_dir());
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("PERFWATCH_URL", &app.base)
        .env("PERFWATCH_TOKEN", &app.token)
        .env("RUST_LOG", "warn");
    cmd.output().await.expect("run perfwatch")
}

async fn get(app: &TestApp, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

#[tokio::test]
async fn load_tool_results_are_stored_as_one_run() {
    let app = spawn_app(Db::Sqlite).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "slug": "loadtools" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let files = [
        own("locust/locust-2.47.0_stats.csv"),
        own("oha/crush-test_oha_c20_z10s.json"),
        own("vegeta/seldon_benchmark_report.json"),
        own("k6/k6_machine_readable_summary.json"),
    ];
    let run = submitted_run(&app, 7, &files).await;
    let m = run["measurements"].as_array().unwrap();
    for (bench, measure) in [
        ("GET /missing", "error_rate"),
        ("Aggregated", "latency"),
        ("oha", "latency"),
        ("oha", "failures"),
        ("vegeta", "rate"),
        ("checks", "passes"),
        ("my_trend", "p95"),
    ] {
        assert!(
            has(m, bench, measure),
            "{bench} {measure} missing from {m:#?}"
        );
    }
    // 15 Locust + 5 oha + 6 vegeta series, plus k6's.
    assert!(m.len() > 15 + 5 + 6, "{}", m.len());
    assert!(m
        .iter()
        .all(|x| x["samples"].as_array().unwrap().len() == 1));
    let formats = run["metadata"]["format"].to_string();
    for f in ["locust", "oha", "vegeta", "k6"] {
        assert!(formats.contains(f), "{formats}");
    }

    let goose = submitted_run(&app, 8, &[own("goose/goose_baseline_test_report.json")]).await;
    let m = goose["measurements"].as_array().unwrap();
    assert_eq!(m.len(), 13, "{m:#?}");
    assert!(has(m, "GET /", "latency"));
    assert!(has(m, "transaction test_transaction", "throughput"));
    assert!(has(m, "scenario test_scenario", "requests"));
    // Locust's and Goose's `GET / · latency` are one series of the project.
    let series = get(&app, "/api/v1/projects/loadtools/series").await;
    let latency_series = series
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["benchmark"] == "GET /" && s["measure"] == "latency")
        .count();
    assert_eq!(latency_series, 1, "{series:#?}");
}

fn has(m: &[Value], bench: &str, measure: &str) -> bool {
    m.iter().any(|x| {
        let s = &x["series"];
        s["benchmark"] == bench && s["measure"] == measure
    })
}

/// Submits `files` at commit `commit` and returns the stored run.
async fn submitted_run(app: &TestApp, commit: u64, files: &[String]) -> Value {
    let o = submit(app, commit, files).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{stdout}\n{stderr}");
    let id: i64 = stdout
        .split("run ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no run id in {stdout}"));
    get(app, &format!("/api/v1/runs/{id}")).await
}
