//! Window collection from a project's metric source, against a real Prometheus over
//! backfilled data (perfwatch-sources' test support): a source is checked when saved
//! (a bad template is refused with the key), `perfwatch metrics collect` (`POST
//! /api/v1/runs/{id}/metrics`) queues
//! the collection of that run's window, and a worker stores a linked run at the same
//! commit with the exact rates and p99, while a series with a gap in the window is
//! listed as invalid instead of being stored as a value.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use perfwatch_server::testing::{spawn_app_with, Db};
use perfwatch_sources::testing::{self as prom, EXPECTED_P99, RATE_A, T0, VERSION_SWITCH};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_window_is_collected_into_a_linked_run() {
    if !prom::available() {
        return;
    }
    let p = prom::start().await;
    let app = spawn_app_with(Db::Sqlite, |c| c.auto_create_projects = true).await;
    let http = reqwest::Client::new();
    let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap().to_rfc3339();
    let run: Value = http
        .post(format!("{}/api/v1/runs", app.base))
        .bearer_auth(&app.token)
        .json(&json!({
            "project": "svc", "commit": {"sha": "ab".repeat(20)},
            "started_at": at(T0 + 100), "finished_at": at(T0 + 400),
            "results": [{"benchmark": "load", "measure": "time", "unit": "ms", "samples": [1.0, 2.0]}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["run_id"].as_i64().expect("a run id");

    let put = |config: String| {
        let (http, base, token) = (http.clone(), app.base.clone(), app.token.clone());
        async move {
            http.put(format!("{base}/api/v1/projects/svc/metric-sources/prom"))
                .bearer_auth(token)
                .json(&json!({ "config": config, "bearer_token": "secret-token-1" }))
                .send()
                .await
                .unwrap()
        }
    };
    // A histogram_quantile without `by (le)` is refused at save time, naming the key.
    let bad = format!(
        "url = \"{}\"\n[[query]]\nname = \"p99\"\nunit = \"s\"\nquery = 'histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[{{{{window}}}}])))'\n",
        p.url
    );
    let r = put(bad).await;
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("query[0].query"), "{text}");

    let good = format!(
        r#"url = "{}"
settle = "0s"
scrape_interval = "1s"

[[query]]
name = "requests_a"
unit = "ops/s"
direction = "higher"
query = 'sum(rate(http_requests_total{{endpoint="a"}}[{{{{window}}}}]))'

[[query]]
name = "requests_b"
unit = "ops/s"
query = 'sum(rate(http_requests_total{{endpoint="b"}}[{{{{window}}}}]))'

[[query]]
name = "latency_p99"
unit = "s"
query = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{{{window}}}}])))'
"#,
        p.url
    );
    let r = put(good).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["bearer_token_set"], true, "{v}");
    assert!(!v.to_string().contains("secret-token-1"));

    // Queued through the CLI (`POST /api/v1/runs/{id}/metrics` underneath).
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_perfwatch"))
        .args(["metrics", "--server", &app.base, "--token", &app.token])
        .args(["collect", &run_id.to_string(), "--source", "prom"])
        .env_remove("PERFWATCH_URL")
        .env_remove("PERFWATCH_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("queued"));
    // The linked run is the next one stored.
    let deadline = Instant::now() + Duration::from_secs(30);
    let linked = loop {
        if let Ok(d) = app.store.run_detail(run_id + 1).await {
            break d;
        }
        assert!(Instant::now() < deadline, "no linked run stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(linked.metadata["linked_run"], run_id);
    assert_eq!(linked.trigger.as_deref(), Some("metrics"));
    assert_eq!(linked.commit.as_ref().unwrap().sha, "ab".repeat(20));
    let value = |name: &str| {
        linked
            .measurements
            .iter()
            .find(|m| m.series.benchmark == name)
            .map(|m| m.median)
    };
    let a = value("requests_a").expect("requests_a stored");
    assert!((a - RATE_A).abs() / RATE_A < 0.01, "rate of a: {a}");
    // Stored in the canonical time unit, nanoseconds.
    let p99 = value("latency_p99").expect("p99 stored") / 1e9;
    assert!((p99 - EXPECTED_P99).abs() < 0.01, "p99: {p99} s");
    assert!(
        value("requests_b").is_none(),
        "b has a gap in the window: not a value"
    );
    let invalid = linked.metadata["invalid_metrics"].to_string();
    assert!(invalid.contains("requests_b"), "{invalid}");

    // A production series: `requests_a` every 10 s from T0 − 300, backfilled in chunks
    // up to now − settle into time-indexed runs.
    let r = http
        .put(format!(
            "{}/api/v1/projects/svc/metric-sources/prom/schedule",
            app.base
        ))
        .bearer_auth(&app.token)
        .json(&json!({ "query": "requests_a", "step_s": 10, "from": at(T0 - 300) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let project = app.store.project("svc").await.unwrap().id;
    let deadline = Instant::now() + Duration::from_secs(60);
    let points = loop {
        let series = app.store.list_series(project).await.unwrap();
        let id = series
            .iter()
            .find(|s| s.benchmark == "requests_a" && s.testbed == "prometheus:prom")
            .map(|s| s.id);
        let pts = match id {
            Some(id) => app.store.points(id, &Default::default()).await.unwrap(),
            None => Vec::new(),
        };
        // Caught up: the watermark has passed the data's end.
        let caught_up = app
            .store
            .metric_schedules()
            .await
            .unwrap()
            .iter()
            .all(|s| s.watermark > (T0 + 600) * 1000);
        if caught_up && pts.len() >= 80 {
            break pts;
        }
        assert!(
            Instant::now() < deadline,
            "the series was not backfilled: {} points",
            pts.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // 10 s points with data from T0 − 290 to T0 + 590, each the rate over its step.
    assert!((85..=91).contains(&points.len()), "{} points", points.len());
    assert!(
        points.iter().all(|p| (p.median - RATE_A).abs() < 0.2),
        "every point ≈ {RATE_A}/s"
    );

    // A version schedule: `build_info` read every 10 s, its `version` label turned into
    // deploy markers. v1.0 is where the data starts (no marker); v1.1 is marked when the
    // fleet runs it — with Prometheus's 5-minute lookback over backfilled samples (no
    // staleness markers), i1's old series lingers, so that is when i2 has switched too.
    let config = format!(
        "url = \"{}\"\nsettle = \"0s\"\nscrape_interval = \"1s\"\n[[query]]\nname = \"build\"\nunit = \"count\"\nquery = 'build_info'\n",
        p.url
    );
    let r = http
        .put(format!(
            "{}/api/v1/projects/svc/metric-sources/fleet",
            app.base
        ))
        .bearer_auth(&app.token)
        .json(&json!({ "config": config }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let schedule = |label: &str| {
        let (http, base, token) = (http.clone(), app.base.clone(), app.token.clone());
        let body =
            json!({ "query": "build", "step_s": 10, "from": at(T0 - 300), "marker_label": label });
        async move {
            http.put(format!(
                "{base}/api/v1/projects/svc/metric-sources/fleet/schedule"
            ))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
        }
    };
    let bad = schedule("1version").await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("marker_label"));
    let r = schedule("version").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let markers = loop {
        let m = app.store.markers(project, None).await.unwrap();
        if m.iter().any(|m| m.name == "v1.1") {
            break m;
        }
        assert!(Instant::now() < deadline, "no marker for v1.1: {m:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let v11 = markers.iter().find(|m| m.name == "v1.1").unwrap();
    assert_eq!(v11.kind, "deploy");
    let (lo, hi) = (
        (T0 + VERSION_SWITCH.0) * 1000,
        (T0 + VERSION_SWITCH.1 + 10) * 1000,
    );
    assert!(
        (lo..=hi).contains(&v11.time),
        "marked when the fleet switched: {} not in {lo}..={hi}",
        v11.time
    );
    assert!(v11
        .description
        .as_deref()
        .unwrap_or("")
        .contains("from v1.0 to v1.1"));
    assert!(
        !markers.iter().any(|m| m.name == "v1.0"),
        "the starting version is no deploy"
    );
    let series = app.store.list_series(project).await.unwrap();
    assert!(
        !series.iter().any(|s| s.benchmark == "build"),
        "a version schedule stores markers, not points"
    );
}
