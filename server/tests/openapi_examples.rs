//! Every request-body example of the OpenAPI document is accepted by its route on a
//! live server (SQLite and PostgreSQL), every documented GET answers, and every answer
//! of this suite, errors included, validates against the schema the document gives
//! for its status.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod openapi_support;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use openapi_support::{check_answer, fetch_document, fill, operation, operations};
use perfwatch_backend::queue::{JobFailure, NewJob, Queue};
use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

perfwatch_backend::on_both!(db, multi_thread: documented_examples_are_accepted);

/// Writes in the order their examples are sent: later ones use what earlier ones
/// created (the project, its runs, alerts, the GitHub integration, a metric source).
/// The documented GETs run after these, the deletions last.
const WRITES: &[(&str, &str)] = &[
    ("POST", "/api/v1/projects"),
    ("POST", "/api/v1/runs"),
    ("POST", "/api/v1/annotations"),
    ("POST", "/api/v1/projects/{slug}/detect"),
    ("POST", "/api/v1/projects/{slug}/thresholds"),
    ("POST", "/api/v1/projects/{slug}/compare/short"),
    ("POST", "/api/v1/alert-groups/{id}/state"),
    ("POST", "/api/v1/alert-groups/{id}/assignee"),
    ("POST", "/api/v1/alert-groups/{id}/notes"),
    ("POST", "/api/v1/alert-groups/{id}/ticket"),
    ("POST", "/api/v1/alerts/{id}/state"),
    ("POST", "/api/v1/alerts/bulk-state"),
    ("PUT", "/api/v1/projects/{slug}/ticket-template"),
    ("PUT", "/api/v1/projects/{slug}/holidays"),
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/users/{name}/memberships"),
    ("PUT", "/api/v1/projects/{slug}/github"),
    ("POST", "/api/v1/github/webhook"),
    ("POST", "/api/v1/projects/{slug}/jobs"),
    ("POST", "/api/v1/jobs/{id}/cancel"),
    ("POST", "/api/v1/jobs/{id}/rerun"),
    ("PUT", "/api/v1/projects/{slug}/metric-sources/{name}"),
    (
        "POST",
        "/api/v1/projects/{slug}/metric-sources/{name}/test-query",
    ),
    ("POST", "/api/v1/runs/{id}/metrics"),
    (
        "PUT",
        "/api/v1/projects/{slug}/metric-sources/{name}/schedule",
    ),
    ("POST", "/api/v1/admin/jobs/{id}/requeue"),
    ("POST", "/api/v1/projects/{slug}/webhooks"),
    ("POST", "/csp-report"),
];
const DELETES: &[(&str, &str)] = &[
    ("DELETE", "/api/v1/series/{id}/sensitivity"),
    ("DELETE", "/api/v1/thresholds/{id}"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("DELETE", "/api/v1/tokens/{id}"),
];

/// Ids of what the suite created, by the path segment that names them.
#[derive(Default)]
struct Ids(HashMap<&'static str, String>);

impl Ids {
    fn value(&self, path: &str, name: &str) -> Option<String> {
        let key = match name {
            "slug" => return Some("checkout".into()),
            "name" if path.contains("/users/") => return Some("alice".into()),
            "name" => return Some("prod".into()),
            _ if path.starts_with("/api/v1/runs/") => "run",
            _ if path.starts_with("/api/v1/series/") => "series",
            _ if path.starts_with("/api/v1/alerts/") => "alert",
            _ if path.starts_with("/api/v1/alert-groups/") => "group",
            _ if path.starts_with("/api/v1/thresholds/") => "threshold",
            _ if path.starts_with("/api/v1/webhooks/") => "webhook",
            _ if path.starts_with("/api/v1/tokens/") => "token",
            _ if path.starts_with("/api/v1/jobs/") => "job",
            _ if path.starts_with("/api/v1/admin/jobs/") => "dead_job",
            _ if path.contains("/deploys/") => "annotation",
            _ => panic!("no value for {{{name}}} in {path}"),
        };
        Some(
            self.0
                .get(key)
                .unwrap_or_else(|| panic!("{path}: nothing created yet for {{{name}}}"))
                .clone(),
        )
    }
}

fn example_of(op: &Value) -> Option<(String, Value)> {
    let content = op["requestBody"]["content"].as_object()?;
    let (ct, media) = content.iter().next()?;
    let ex = media
        .get("example")
        .cloned()
        .unwrap_or_else(|| panic!("a request body without example: {op}"));
    Some((ct.clone(), ex))
}

struct Suite<'a> {
    app: &'a TestApp,
    doc: Value,
    c: reqwest::Client,
    ids: Ids,
}

impl Suite<'_> {
    /// Sends one request as the global admin token, checks the answer against the
    /// document and returns status and JSON body (`Null` when not JSON).
    async fn send(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<(String, Vec<u8>)>,
        headers: &[(&str, String)],
    ) -> (u16, Value) {
        let url = format!(
            "{}{}{query}",
            self.app.base,
            fill(path, &|p, n| self.ids.value(p, n))
        );
        let mut req = self
            .c
            .request(method.parse().unwrap(), &url)
            .bearer_auth(&self.app.token);
        if let Some((ct, bytes)) = body {
            req = req.header("content-type", ct).body(bytes);
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.bytes().await.unwrap();
        check_answer(&self.doc, method, path, status, &ct, &bytes);
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, json)
    }

    /// Sends the documented example of a write (or no body) and requires success.
    async fn write(&mut self, method: &str, path: &str) -> Value {
        let op = operation(&self.doc, method, path).clone();
        let example = example_of(&op);
        let mut headers = vec![];
        let body = example.map(|(ct, ex)| {
            let bytes = if ct == "application/json" || ct == "application/csp-report" {
                serde_json::to_vec(&ex).unwrap()
            } else {
                panic!("{method} {path}: example of unexpected type {ct}")
            };
            if path == "/api/v1/github/webhook" {
                headers = self.github_headers(&bytes);
            }
            (ct, bytes)
        });
        let (status, answer) = self.send(method, path, "", body, &headers).await;
        assert!(
            (200..400).contains(&status),
            "{method} {path}: the documented example was answered {status}: {answer}"
        );
        answer
    }

    /// A GitHub delivery signed with the webhook secret of the integration example.
    fn github_headers(&self, body: &[u8]) -> Vec<(&'static str, String)> {
        let integration = operation(&self.doc, "PUT", "/api/v1/projects/{slug}/github");
        let secret = example_of(integration).unwrap().1["webhook_secret"]
            .as_str()
            .expect("the integration example has a webhook secret")
            .to_string();
        vec![
            ("x-github-event", "ping".into()),
            (
                "x-github-delivery",
                "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            ),
            (
                "x-hub-signature-256",
                perfwatch_github::sign(secret.as_bytes(), body),
            ),
        ]
    }

    fn remember(&mut self, key: &'static str, v: &Value) {
        let s = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert!(!s.is_empty() && s != "null", "no id for {key}");
        self.ids.0.insert(key, s);
    }
}

/// The example project's history on main: 12 runs near 1,000 ns, then 12 near
/// 1,200 ns, on the series the run example submits to, so detection finds a change.
async fn seed_history(s: &Suite<'_>) {
    for i in 0..24 {
        let level = if i < 12 { 1000.0 } else { 1200.0 };
        let samples: Vec<f64> = (0..5).map(|k| level + k as f64).collect();
        let run = json!({
            "project": "checkout",
            "branch": "main",
            "commit": {"sha": format!("{:040x}", 0xc0ffee00_u64 + i), "time": format!("2026-10-{:02}T10:00:00Z", i + 1)},
            "testbed": "ci-linux-4core",
            "results": [{"benchmark": "BenchmarkCartTotal", "measure": "latency", "unit": "ns", "params": {"items": "100"}, "samples": samples}]
        });
        let (status, answer) = s
            .send(
                "POST",
                "/api/v1/runs",
                "",
                Some(("application/json".into(), serde_json::to_vec(&run).unwrap())),
                &[],
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
}

/// A dead work-queue job, so the re-queue route has one to put back.
async fn dead_job(app: &TestApp) -> i64 {
    let now = perfwatch_backend::time::now_ms();
    let job = NewJob {
        kind: "test.kind".into(),
        payload: "{}".into(),
        priority: 0,
        not_before: now,
        max_attempts: 1,
        backoff_ms: 0,
        coalesce_key: None,
    };
    let id = app.store.queue_insert(&job, now).await.unwrap();
    let q = Queue::new(app.store.clone(), "test", Duration::from_secs(30));
    let lease = q.claim(&["test.kind"]).await.unwrap().unwrap();
    q.fail(&lease, &JobFailure::Permanent("for the example".into()))
        .await
        .unwrap();
    id
}

async fn documented_examples_are_accepted(db: Db) {
    let app = spawn_app(db).await;
    let doc = fetch_document(&app.base).await;
    let mut s = Suite {
        app: &app,
        doc: doc.clone(),
        c: reqwest::Client::new(),
        ids: Ids::default(),
    };

    // The schema check is not vacuous: a wrong body fails it.
    let receipt = json!({"$ref": "#/components/schemas/RunReceipt"});
    let good = json!({"run_id": 1, "duplicate": false, "series": 1, "url": "http://x/runs/1"});
    assert_eq!(openapi_support::validate(&doc, &receipt, &good), Ok(()));
    for wrong in [
        json!({"run_id": "1", "duplicate": false, "series": 1, "url": "u"}),
        json!({"duplicate": false, "series": 1, "url": "u"}),
        json!({"run_id": 1, "duplicate": false, "series": 1, "url": "u", "undocumented": 1}),
    ] {
        assert!(
            openapi_support::validate(&doc, &receipt, &wrong).is_err(),
            "{wrong}"
        );
    }

    // The suite covers every documented operation.
    let listed: BTreeSet<(String, String)> = WRITES
        .iter()
        .chain(DELETES)
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for (m, p) in operations(&doc) {
        assert!(
            m == "GET" || listed.contains(&(m.clone(), p.clone())),
            "{m} {p} is documented but this suite does not send its example: add it to WRITES"
        );
    }

    // The error shape, as documented: unauthenticated and invalid requests.
    let (status, _) =
        s.c.post(format!("{}/api/v1/projects", app.base))
            .json(&json!({"slug": "x"}))
            .send()
            .await
            .map(|r| (r.status().as_u16(), ()))
            .unwrap();
    assert_eq!(status, 401);
    let bad = json!({"project": "checkout", "results": [{"benchmark": "b", "measure": "m", "unit": "ns", "samples": []}]});
    let (status, answer) = s
        .send(
            "POST",
            "/api/v1/runs",
            "",
            Some(("application/json".into(), serde_json::to_vec(&bad).unwrap())),
            &[],
        )
        .await;
    assert!(status == 422 || status == 404, "{status}: {answer}");
    assert!(answer["error"]["message"].is_string());
    // A route reading its body with the JSON extractor answers in the same shape.
    let (status, answer) = s
        .send(
            "POST",
            "/api/v1/alerts/bulk-state",
            "",
            Some(("application/json".into(), b"{not json".to_vec())),
            &[],
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["status"], 400);

    for (method, path) in WRITES {
        if *path == "/api/v1/runs" {
            seed_history(&s).await;
        }
        if *path == "/api/v1/projects/{slug}/thresholds" {
            // Detection ran on every run: the example project has alerts now.
            let (_, alerts) = s
                .send("GET", "/api/v1/alerts", "?project=checkout", None, &[])
                .await;
            assert!(
                alerts.as_array().is_some_and(|a| !a.is_empty()),
                "no alerts: {alerts}"
            );
            s.remember("alert", &alerts[0]["id"]);
            s.remember("group", &alerts[0]["group_id"]);
            let (_, series) = s
                .send("GET", "/api/v1/projects/{slug}/series", "", None, &[])
                .await;
            s.remember("series", &series[0]["id"]);
        }
        if *path == "/api/v1/admin/jobs/{id}/requeue" {
            let id = dead_job(&app).await;
            s.remember("dead_job", &json!(id));
        }
        let answer = s.write(method, path).await;
        match *path {
            "/api/v1/runs" => s.remember("run", &answer["run_id"]),
            "/api/v1/annotations" => s.remember("annotation", &answer["id"]),
            "/api/v1/projects/{slug}/thresholds" => s.remember("threshold", &answer["id"]),
            "/api/v1/projects/{slug}/webhooks" => s.remember("webhook", &answer["id"]),
            "/api/v1/tokens" => s.remember("token", &answer["id"]),
            "/api/v1/projects/{slug}/jobs" => s.remember("job", &answer["id"]),
            _ => {}
        }
    }

    // Every documented read answers, and its answer matches its schema.
    let short = operation(&doc, "POST", "/api/v1/projects/{slug}/compare/short");
    let compare_query = format!(
        "?{}",
        example_of(short).unwrap().1["query"].as_str().unwrap()
    );
    for (method, path) in operations(&doc) {
        if method != "GET" {
            continue;
        }
        let query = match path.as_str() {
            "/api/v1/projects/{slug}/compare" => compare_query.as_str(),
            "/api/v1/alerts" => "?project=checkout",
            _ => "",
        };
        let (status, answer) = s.send("GET", &path, query, None, &[]).await;
        assert_eq!(status, 200, "GET {path}{query}: {answer}");
    }

    for (method, path) in DELETES {
        s.write(method, path).await;
    }
}
