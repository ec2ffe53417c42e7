//! `comparison.finished` webhooks: a pull-request run ingested over HTTP is compared
//! with its main-branch baseline and the result delivered, signed, to a receiver on
//! 127.0.0.1 started by the test (JSON and Slack shapes); main-branch runs emit none.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfwatch_backend::notify::hmac_sha256_hex;
use perfwatch_backend::store::NewProject;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use serde_json::{json, Value};

perfwatch_backend::on_both!(db, multi_thread: pull_request_run_delivers_a_signed_comparison);

/// Event header, signature header and raw body of each delivery.
type Got = Arc<Mutex<Vec<(String, String, String)>>>;

async fn receiver() -> (String, Got) {
    use axum::http::{HeaderMap, StatusCode};
    let got: Got = Arc::default();
    let g2 = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let g = g2.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default()
                };
                g.lock()
                    .unwrap()
                    .push((h("x-perfwatch-event"), h("x-perfwatch-signature"), body));
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

async fn wait_for(got: &Got, n: usize) {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery arrived");
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    let res = c
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

/// The delivery log (admin token).
async fn deliveries(app: &TestApp, c: &reqwest::Client) -> Vec<Value> {
    let res = c
        .get(format!("{}/api/v1/projects/drv/deliveries", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json::<Vec<Value>>().await.unwrap()
}

fn sha(i: u64) -> String {
    format!("{:040x}", 0xabc000 + i)
}

/// One run of two benchmarks, 5 samples each: `insert` around `insert`, `select` around 50.
fn run(branch: &str, commit: u64, parent: Option<u64>, insert: f64) -> Value {
    let jitter = [0.0, 0.4, -0.3, 0.2, -0.1];
    json!({
        "project": "drv",
        "branch": branch,
        "commit": {"sha": sha(commit), "parent": parent.map(sha), "message": format!("change {commit}")},
        "testbed": "ci",
        "results": [
            {"benchmark": "insert", "measure": "time", "unit": "ns", "direction": "lower",
             "samples": jitter.iter().map(|j| insert + j).collect::<Vec<_>>()},
            {"benchmark": "select", "measure": "time", "unit": "ns", "direction": "lower",
             "samples": jitter.iter().map(|j| 50.0 + j).collect::<Vec<_>>()},
        ],
    })
}

async fn pull_request_run_delivers_a_signed_comparison(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.notify.poll = Duration::from_millis(50);
        c.notify.backoff = Duration::from_millis(100);
    })
    .await;
    app.store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: Some("https://github.com/example/driver".into()),
        })
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let (json_url, json_got) = receiver().await;
    let (slack_url, slack_got) = receiver().await;
    let (s, b) = post(
        &app,
        &c,
        "/api/v1/projects/drv/webhooks",
        json!({"url": json_url, "events": ["comparison_finished"], "secret": "s3cret"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(
        &app,
        &c,
        "/api/v1/projects/drv/webhooks",
        json!({"url": slack_url, "format": "slack", "events": ["comparison.finished"]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    // Main-branch runs: no comparison event.
    for i in 1..=3 {
        let (s, b) = post(
            &app,
            &c,
            "/api/v1/runs",
            run("main", i, (i > 1).then(|| i - 1), 100.0),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    let log = deliveries(&app, &c).await;
    assert!(log.is_empty(), "main-branch runs queue nothing: {log:?}");

    // A pull-request run, 30 % slower on `insert`.
    let (s, b) = post(&app, &c, "/api/v1/runs", run("my-pr", 100, Some(3), 130.0)).await;
    assert_eq!(s, 201, "{b}");
    let run_id = b["run_id"].as_i64().unwrap();
    wait_for(&json_got, 1).await;
    wait_for(&slack_got, 1).await;

    let (ev, sig, raw) = json_got.lock().unwrap()[0].clone();
    assert_eq!(ev, "comparison.finished");
    assert_eq!(
        sig,
        format!("sha256={}", hmac_sha256_hex(b"s3cret", raw.as_bytes()))
    );
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["event"], "comparison.finished");
    assert_eq!(body["project"], "drv");
    let d = &body["detail"];
    assert_eq!(d["branch"], "my-pr");
    assert_eq!(d["head_sha"], sha(100));
    assert!(d["head_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/commit/{}", sha(100))));
    assert_eq!(d["base_sha"], sha(3));
    assert!(d["base"].as_str().unwrap().contains("main"), "{d}");
    assert_eq!(d["regressions"], 1, "{d}");
    assert_eq!(d["improvements"], 0);
    assert_eq!(d["total"], 2);
    assert_eq!(
        d["unchanged"].as_u64().unwrap() + d["inconclusive"].as_u64().unwrap(),
        1
    );
    assert!(d["geomean_pct"].as_f64().unwrap() > 5.0, "{d}");
    let reg = &body["comparison"]["regressions"][0];
    assert_eq!(reg["benchmark"], "insert");
    assert_eq!(reg["measure"], "time");
    assert_eq!(reg["testbed"], "ci");
    let pct = reg["change_pct"].as_f64().unwrap();
    assert!((25.0..35.0).contains(&pct), "change {pct}");
    assert!(reg["p_value"].as_f64().unwrap() < 0.05);
    let sid = reg["series_id"].as_i64().unwrap();
    assert_eq!(
        reg["chart_image_url"],
        format!("{}/api/v1/series/{sid}/chart.svg", app.base)
    );
    assert_eq!(
        body["comparison"]["improvements"].as_array().unwrap().len(),
        0
    );
    let compare = format!(
        "{}/projects/drv/compare?base=commit:{}&head=run:{run_id}",
        app.base,
        sha(3)
    );
    assert_eq!(body["comparison"]["compare_url"], compare);
    assert_eq!(
        body["comparison"]["run_url"],
        format!("{}/runs/{run_id}", app.base)
    );
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("insert") && text.contains(&compare), "{text}");

    // The links work: the permalink's page and the chart image answer 200.
    for url in [
        compare.clone(),
        reg["chart_image_url"].as_str().unwrap().to_string(),
    ] {
        let res = c.get(&url).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{url}");
    }

    // Slack: text plus blocks with `<url|label>` links.
    let (_, _, raw) = slack_got.lock().unwrap()[0].clone();
    let slack: Value = serde_json::from_str(&raw).unwrap();
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.contains("Comparison finished") && text.contains("insert"),
        "{text}"
    );
    let blocks = slack["blocks"].to_string();
    assert!(blocks.contains(&format!("<{compare}|Compare>")), "{blocks}");
    assert!(blocks.contains("chart.svg|chart>"), "{blocks}");
    assert!(blocks.contains("+3"), "the change in %: {blocks}");

    // One delivery per subscriber, all for the pull-request run.
    let log = deliveries(&app, &c).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|d| d["event"] == "comparison.finished"));
}
