//! The alert endpoints and pages over HTTP, against the real server on port 0 and a
//! fresh SQLite file.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::store::NewProject;
use perfwatch_backend::Store;
use perfwatch_server::ServerConfig;
use serde_json::{json, Value};

struct App {
    base: String,
    token: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn spawn() -> App {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    let path = std::env::temp_dir().join(format!("perfwatch-alerts-api-{}.db", hex::encode(b)));
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.unwrap();
    store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: Some("https://github.com/example/driver".into()),
        })
        .await
        .unwrap();
    store
        .create_project(&NewProject {
            slug: "other".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "ci", None)
        .await
        .unwrap();
    store.close().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let config = ServerConfig::for_database(&url);
    let server = tokio::spawn(async move {
        perfwatch_server::serve(config, move |addr| {
            let _ = tx.send(addr);
        })
        .await
        .expect("server");
    });
    let addr = rx.await.expect("server bound");
    App {
        base: format!("http://{addr}"),
        token,
        client: reqwest::Client::new(),
        server,
    }
}

impl App {
    async fn post(&self, path: &str, body: Value, token: bool) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if token {
            req = req.bearer_auth(&self.token);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
    async fn page(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

/// 40 commits on main: `insert` steps from 100 to 120 ns at commit 21, `find` stays flat.
async fn submit_step(app: &App) {
    for i in 1..=40u64 {
        let wiggle = (i % 3) as f64 * 0.3;
        let insert = if i < 21 { 100.0 } else { 120.0 } + wiggle;
        let run = json!({
            "project": "drv",
            "commit": {"sha": format!("{:040x}", 0xfeed00 + i), "message": format!("change {i}")},
            "results": [
                {"benchmark": "insert", "measure": "time", "unit": "ns", "direction": "lower", "samples": [insert]},
                {"benchmark": "find", "measure": "time", "unit": "ns", "direction": "lower", "samples": [50.0 + wiggle]},
            ],
        });
        let (status, body) = app.post("/api/v1/runs", run, true).await;
        assert_eq!(status, 201, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_listed_grouped_and_shown_after_ingest() {
    let app = spawn().await;
    submit_step(&app).await;

    let (status, alerts) = app.get("/api/v1/alerts?project=drv").await;
    assert_eq!(status, 200, "{alerts}");
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["direction"], "regression");
    assert_eq!(a["kind"], "changepoint");
    assert_eq!(a["series"]["benchmark"], "insert");
    assert_eq!(a["first_bad"]["sha"], format!("{:040x}", 0xfeed00 + 21));
    assert_eq!(
        a["first_bad"]["url"],
        format!(
            "https://github.com/example/driver/commit/{:040x}",
            0xfeed00 + 21
        )
    );

    // Filters: direction, size, project.
    let (_, imp) = app
        .get("/api/v1/alerts?project=drv&direction=improvement")
        .await;
    assert_eq!(imp.as_array().unwrap().len(), 0);
    let (_, big) = app.get("/api/v1/alerts?project=drv&min_change=50").await;
    assert_eq!(big.as_array().unwrap().len(), 0);
    let (_, recent) = app
        .get("/api/v1/alerts?project=drv&min_change=10&max_age_days=7")
        .await;
    assert_eq!(recent.as_array().unwrap().len(), 1);
    let (status, body) = app.get("/api/v1/alerts?direction=sideways").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["fields"][0]["path"], "direction");
    let (status, _) = app.get("/api/v1/alerts?project=nope").await;
    assert_eq!(status, 404);

    let gid = a["group_id"].as_i64().unwrap();
    let (status, group) = app.get(&format!("/api/v1/alert-groups/{gid}")).await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(
        group["alerts"][0]["suspect_commits"][0]["message"],
        "change 21"
    );
    let (status, _) = app.get("/api/v1/alert-groups/999999").await;
    assert_eq!(status, 404);

    // Pages: the list and the group with its zoomed chart and alert marker.
    let (status, html) = app.page("/alerts?project=drv&direction=regression").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"alerts\""), "{html}");
    assert!(html.contains(&format!("/alerts/groups/{gid}")), "{html}");
    let (status, html) = app.page(&format!("/alerts/groups/{gid}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("Alert group #{gid}")), "{html}");
    assert!(html.contains("alert-mark regression"), "{html}");
    assert!(html.contains("change 21"), "{html}");
    let sid = a["series"]["id"].as_i64().unwrap();
    let (_, html) = app.page(&format!("/series/{sid}")).await;
    assert!(
        html.contains("alert-mark regression"),
        "series chart shows the alert"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_and_thresholds_need_a_token_and_are_idempotent() {
    let app = spawn().await;
    submit_step(&app).await;

    let (status, _) = app
        .post("/api/v1/projects/drv/detect", json!({}), false)
        .await;
    assert_eq!(status, 401);
    let (status, summary) = app
        .post("/api/v1/projects/drv/detect", json!({}), true)
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["series"], 2);
    assert_eq!(summary["alerts_created"], 0);
    assert_eq!(summary["alerts_unchanged"], 1);

    let rule = json!({"measure": "time", "rule": {"kind": "static", "max": 110.0}});
    let (status, _) = app
        .post("/api/v1/projects/drv/thresholds", rule.clone(), false)
        .await;
    assert_eq!(status, 401);
    let bad = json!({"measure": "time", "rule": {"kind": "static"}});
    let (status, body) = app.post("/api/v1/projects/drv/thresholds", bad, true).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["path"], "rule");
    let (status, created) = app
        .post("/api/v1/projects/drv/thresholds", rule, true)
        .await;
    assert_eq!(status, 201, "{created}");
    let rid = created["id"].as_i64().unwrap();
    let (_, rules) = app.get("/api/v1/projects/drv/thresholds").await;
    assert_eq!(rules[0]["rule"]["kind"], "static");

    // On demand, rules judge the whole history: 20 points of `insert` are above 110.
    let (_, summary) = app
        .post("/api/v1/projects/drv/detect", json!({}), true)
        .await;
    assert_eq!(summary["threshold_alerts_created"], 20, "{summary}");
    let (_, summary) = app
        .post("/api/v1/projects/drv/detect", json!({}), true)
        .await;
    assert_eq!(summary["threshold_alerts_created"], 0, "{summary}");
    let (_, th) = app.get("/api/v1/alerts?project=drv&kind=threshold").await;
    assert_eq!(th.as_array().unwrap().len(), 20);

    let del = app
        .client
        .delete(format!("{}/api/v1/thresholds/{rid}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let (_, rules) = app.get("/api/v1/projects/drv/thresholds").await;
    assert_eq!(rules.as_array().unwrap().len(), 0);
}
