//! Helpers for the integration tests: sample runs and HTTP shortcuts. The server
//! itself is started by `perfwatch_server::testing`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

pub mod bench_cpu;
pub mod browser;
pub mod long_series;
pub mod procs;
pub mod raw_sqlite;
pub mod soak;
pub mod webhook_receiver;

pub use perfwatch_server::testing::{spawn_app, spawn_app_with, Db, TestApp};
use serde_json::{json, Value};

/// A native-format run of `project` at commit `sha` with one series per `(benchmark, value)`.
pub fn run_json(project: &str, sha: &str, results: &[(&str, f64)]) -> Value {
    json!({
        "project": project,
        "branch": "main",
        "commit": { "sha": sha, "message": format!("commit {sha}") },
        "testbed": "ci-linux",
        "results": results.iter().map(|(b, v)| json!({
            "benchmark": b, "measure": "time", "unit": "ns/op",
            "samples": [v * 0.99, *v, v * 1.01]
        })).collect::<Vec<_>>()
    })
}

/// A 40-hex sha derived from a number.
pub fn sha(n: u64) -> String {
    let mix = |x: u64| {
        let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}{:08x}", mix(n), mix(n ^ 0xABCD), n as u32)
}

pub async fn create_project(app: &TestApp, slug: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "slug": slug, "repo_url": "https://github.com/example/repo" }))
        .send()
        .await
        .expect("create project");
    assert_eq!(
        resp.status(),
        201,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

pub async fn post_run(app: &TestApp, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/runs", app.base))
        .bearer_auth(&app.token)
        .json(body)
        .send()
        .await
        .expect("post run");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("{}{}", app.base, path))
        .await
        .expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn get_text(app: &TestApp, path: &str) -> (u16, String) {
    let resp = reqwest::get(format!("{}{}", app.base, path))
        .await
        .expect("get");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}
