//! Comparison exports and permalinks over HTTP against the real server (port 0, fresh
//! SQLite file), and the `perfwatch compare` CLI's exit code.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

fn sha(i: usize) -> String {
    format!("beef{i:02x}{:034x}", 0xfeed)
}

/// Ten samples around `level` with ±1 % deterministic noise.
fn samples(level: f64, seed: usize) -> Vec<f64> {
    (0..10)
        .map(|k| level * (1.0 + 0.002 * (((k * 7 + seed * 3) % 11) as f64 - 5.0)))
        .collect()
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

/// main: commit 1 (base), commit 2 where `Query/one` is 10 % slower and
/// `Query/two` 20 % faster; `Query/three` unchanged.
async fn seed(app: &TestApp) {
    let (s, _) = post(app, "/api/v1/projects", json!({"slug": "drv"})).await;
    assert_eq!(s, 201);
    for (i, levels) in [(1, [100.0, 200.0, 50.0]), (2, [110.0, 160.0, 50.0])] {
        let names = ["Query/one", "Query/two", "Query/three"];
        let body = json!({
            "project": "drv", "branch": "main", "testbed": "ci",
            "commit": {"sha": sha(i)},
            "results": names.iter().zip(levels).enumerate().map(|(k, (b, v))| json!({
                "benchmark": b, "measure": "time", "unit": "ns", "samples": samples(v, i * 10 + k)
            })).collect::<Vec<_>>()
        });
        let (s, r) = post(app, "/api/v1/runs", body).await;
        assert_eq!(s, 201, "{r}");
    }
    for (name, i) in [("v1", 1), ("v2", 2)] {
        let (s, r) = post(
            app,
            "/api/v1/annotations",
            json!({"project": "drv", "name": name, "kind": "release", "commit": sha(i)}),
        )
        .await;
        assert_eq!(s, 201, "{r}");
    }
}

const Q: &str = "/api/v1/projects/drv/compare?base=release:v1&head=release:v2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_export_has_rows_summary_and_verdicts() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let (s, ctype, body) = get(&app, Q).await;
    assert_eq!(s, 200, "{body}");
    assert!(ctype.starts_with("application/json"));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["summary"]["regressions"], 1);
    assert_eq!(v["summary"]["improvements"], 1);
    assert_eq!(v["summary"]["unchanged"], 1);
    assert_eq!(v["rows"][0]["series"]["benchmark"], "Query/one");
    assert_eq!(v["rows"][0]["verdict"], "regression");
    assert_eq!(v["rows"][1]["verdict"], "improvement");
    // Filters travel in the URL.
    let (_, _, body) = get(&app, &format!("{Q}&only=significant&sort=name")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["series"]["benchmark"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Query/one", "Query/two"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_markdown_exports() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let (s, ctype, csv) = get(&app, &format!("{Q}&format=csv")).await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("series_id,benchmark,params,measure"));
    assert!(lines[1].contains(",Query/one,") && lines[1].contains(",regression,"));
    assert_eq!(
        lines[0].split(',').count(),
        lines[1].split(',').count(),
        "{csv}"
    );

    let (s, ctype, md) = get(&app, &format!("{Q}&format=markdown")).await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/markdown"));
    // The digest's Markdown (`core::digest`, as PR comments and `compare --summary`):
    // the counts, the significant changes first, the permalink.
    assert!(
        md.starts_with("**release:v2 at ") && md.contains(" vs release:v1 at "),
        "{md}"
    );
    assert!(
        md.contains("3 series: 1 regressions, 1 improvements, 1 unchanged"),
        "{md}"
    );
    assert!(md.contains("geomean"), "{md}");
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 3, "{md}");
    assert!(
        lines[..2].iter().any(|l| l.contains(": regression +"))
            && lines[..2].iter().any(|l| l.contains(": improvement -")),
        "significant changes first: {md}"
    );
    assert!(
        md.contains(&format!(
            "Compare: {}/projects/drv/compare?base=release%3Av1&head=release%3Av2",
            app.base
        )),
        "{md}"
    );

    // Bad input names the field.
    let (s, _, body) = get(
        &app,
        "/api/v1/projects/drv/compare?base=planet:mars&head=branch:main",
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert!(body.contains("\"base\""), "{body}");
    let (s, _, body) = get(
        &app,
        "/api/v1/projects/drv/compare?base=release:v9&head=branch:main",
    )
    .await;
    assert_eq!(s, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_permalink_redirects_to_the_compare_page() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let q = "base=release:v1&head=release:v2&only=significant";
    let (s, r) = post(
        &app,
        "/api/v1/projects/drv/compare/short",
        json!({"query": q}),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let path = r["path"].as_str().unwrap().to_string();
    assert!(path.starts_with("/c/"));
    // The same query gives the same link.
    let (_, again) = post(
        &app,
        "/api/v1/projects/drv/compare/short",
        json!({"query": q}),
    )
    .await;
    assert_eq!(again["path"], r["path"]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let target = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        target,
        "/projects/drv/compare?base=release%3Av1&head=release%3Av2&only=significant"
    );
    // Following it renders the page with the rows.
    let (s, _, html) = get(&app, &path).await;
    assert_eq!(s, 200);
    assert!(html.contains("data-verdict=\"regression\""), "{html}");
    assert!(!html.contains("data-verdict=\"no_change\""));
    let (s, _, _) = get(&app, "/c/doesnotexist").await;
    assert_eq!(s, 404);
    // Writing a link needs a token.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/drv/compare/short", app.base))
        .json(&json!({"query": q}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_compare_fails_on_regression_when_asked() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let run = |args: &[&str]| {
        let base = app.base.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_perfwatch"))
                .arg("compare")
                .args(&args)
                .args(["--project", "drv", "--server", &base])
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(&["release:v1", "release:v2", "--fail-on", "regression"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Query/one"), "{stdout}");
    assert!(stdout.contains("regression"), "{stdout}");
    assert!(stdout.contains("-20.00%"), "{stdout}");
    // Without --fail-on the same comparison succeeds.
    let out = run(&["release:v1", "release:v2"]).await;
    assert_eq!(out.status.code(), Some(0));
    // No regression (v1 against itself): success even with --fail-on.
    let out = run(&["release:v1", "release:v1", "--fail-on", "regression"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // An unknown release is an error (status 1 from anyhow) with a message.
    let out = run(&["release:v9", "release:v1"]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_chart_is_served_as_svg() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let (_, _, body) = get(&app, "/api/v1/projects/drv/series").await;
    let series: Value = serde_json::from_str(&body).unwrap();
    let id = series[0]["id"].as_i64().unwrap();
    let (s, ctype, svg) = get(&app, &format!("/api/v1/series/{id}/chart.svg?x=commit")).await;
    assert_eq!(s, 200, "{svg}");
    assert_eq!(ctype, "image/svg+xml");
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(svg.contains("<polyline"), "the median line is drawn: {svg}");
    assert!(svg.contains(&series[0]["benchmark"].as_str().unwrap().to_string()));
    let (s, _, _) = get(&app, "/api/v1/series/999999/chart.svg").await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_page_compares_each_release_with_the_previous() {
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let (s, _, html) = get(&app, "/projects/drv/releases").await;
    assert_eq!(s, 200);
    assert!(html.contains("data-testid=\"release-steps\""), "{html}");
    assert!(
        html.contains("1 regressions · 1 improvements · 1 unchanged"),
        "{html}"
    );
    assert!(
        html.contains("/projects/drv/compare?base=release%3Av1&amp;head=release%3Av2")
            || html.contains("/projects/drv/compare?base=release%3Av1&head=release%3Av2"),
        "{html}"
    );
    assert!(html.contains("first release"));
    // Per-release medians of the chosen series: one point per release.
    assert!(html.contains("data-testid=\"release-chart\""), "{html}");
    assert_eq!(html.matches("class=\"release-point\"").count(), 2);
}
