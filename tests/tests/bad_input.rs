//! Bad submissions get a clear JSON error naming the field, and store nothing.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_tests::*;
use serde_json::Value;

perfwatch_backend::on_both!(
    db:
    every_bad_input_is_rejected_and_nothing_is_stored,
    body_over_the_limit_is_413,
    project_repo_url_must_be_http
);

const GOOD: &str = r#"{"benchmark":"B","measure":"time","unit":"ns/op","samples":[1,2,3]}"#;

fn with_results(results: &str) -> String {
    format!(r#"{{"project":"driver","commit":{{"sha":"abcdef1234"}},"results":[{results}]}}"#)
}

/// (case, body, expected status, expected path of the first error, a word of its reason)
fn cases() -> Vec<(&'static str, Vec<u8>, u16, &'static str, &'static str)> {
    let long = "x".repeat(501);
    vec![
        ("malformed JSON", br#"{"project":"driver","results":["#.to_vec(), 400, "results", "malformed"),
        ("not an object", b"[1,2,3]".to_vec(), 400, "", "expected"),
        ("wrong type", with_results(r#"{"benchmark":"B","measure":"t","unit":"ns","samples":["fast"]}"#).into_bytes(), 400, "results[0].samples[0]", "invalid type"),
        ("missing field", with_results(r#"{"benchmark":"B","unit":"ns","samples":[1]}"#).into_bytes(), 400, "results[0]", "measure"),
        ("unknown field", with_results(r#"{"benchmark":"B","measure":"t","unit":"ns","samples":[1],"colour":"red"}"#).into_bytes(), 400, "results[0].colour", "unknown field"),
        ("NaN literal", with_results(r#"{"benchmark":"B","measure":"t","unit":"ns","samples":[NaN]}"#).into_bytes(), 400, "results[0].samples[0]", "must be finite"),
        ("infinite number", with_results(r#"{"benchmark":"B","measure":"t","unit":"ns","samples":[1e999]}"#).into_bytes(), 400, "results[0].samples[0]", "out of range"),
        ("negative duration sample", with_results(r#"{"benchmark":"B","measure":"t","unit":"ms","samples":[1,-2]}"#).into_bytes(), 422, "results[0].samples[1]", "negative"),
        ("finished before started", br#"{"project":"driver","started_at":"2026-01-02T00:00:00Z","finished_at":"2026-01-01T00:00:00Z","results":[{"benchmark":"B","measure":"t","unit":"ns","samples":[1]}]}"#.to_vec(), 422, "finished_at", "negative duration"),
        ("empty samples", with_results(&format!(r#"{GOOD},{{"benchmark":"C","measure":"t","unit":"ns","samples":[]}}"#)).into_bytes(), 422, "results[1].samples", "at least one"),
        ("no results", with_results("").into_bytes(), 422, "results", "at least one"),
        ("duplicate series", with_results(&format!("{GOOD},{GOOD}")).into_bytes(), 422, "results[1]", "duplicate series"),
        ("name too long", with_results(&format!(r#"{{"benchmark":"{long}","measure":"t","unit":"ns","samples":[1]}}"#)).into_bytes(), 422, "results[0].benchmark", "longer than 500"),
        ("bad sha", br#"{"project":"driver","commit":{"sha":"not-hex"},"results":[{"benchmark":"B","measure":"t","unit":"ns","samples":[1]}]}"#.to_vec(), 422, "commit.sha", "hexadecimal"),
        ("bad project slug", br#"{"project":"Driver Name","results":[{"benchmark":"B","measure":"t","unit":"ns","samples":[1]}]}"#.to_vec(), 422, "project", "lowercase"),
        ("non-UTF-8", b"{\"project\":\"dr\xffiver\",\"results\":[]}".to_vec(), 400, "", "UTF-8"),
        ("unknown project", br#"{"project":"nobody","results":[{"benchmark":"B","measure":"t","unit":"ns","samples":[1]}]}"#.to_vec(), 422, "project", "unknown project"),
    ]
}

async fn every_bad_input_is_rejected_and_nothing_is_stored(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    let before = app.store.row_counts().await.unwrap();
    let client = reqwest::Client::new();
    for (case, body, status, path, word) in cases() {
        let resp = client
            .post(format!("{}/api/v1/runs", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{case}");
        let err: Value = resp
            .json()
            .await
            .unwrap_or_else(|e| panic!("{case}: error body is not JSON: {e}"));
        let first = &err["error"]["fields"][0];
        assert_eq!(first["path"], path, "{case}: {err}");
        let reason = first["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(word),
            "{case}: reason {reason:?} lacks {word:?}"
        );
        assert!(
            !reason.to_lowercase().contains("sqlx") && !reason.contains("SQL"),
            "{case}: leaks database text"
        );
        assert_eq!(
            app.store.row_counts().await.unwrap(),
            before,
            "{case}: something was stored"
        );
    }
}

async fn body_over_the_limit_is_413(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    let before = app.store.row_counts().await.unwrap();
    let samples = vec!["1.0"; 6_000_000].join(",");
    let body = with_results(&format!(
        r#"{{"benchmark":"B","measure":"t","unit":"ns","samples":[{samples}]}}"#
    ));
    assert!(body.len() > 10 * 1024 * 1024);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/runs", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["status"], 413);
    assert_eq!(app.store.row_counts().await.unwrap(), before);
}

/// `repo_url` goes through the one http(s) URL check (`core::http_url`): commit links
/// are built from it, so a `javascript:` or `ftp://` URL is refused, naming the field.
async fn project_repo_url_must_be_http(db: Db) {
    let app = spawn_app(db).await;
    let client = reqwest::Client::new();
    for (url, why) in [
        ("javascript:alert(1)", "scheme `javascript`"),
        ("ftp://git.example/repo", "scheme `ftp`"),
    ] {
        let resp = client
            .post(format!("{}/api/v1/projects", app.base))
            .bearer_auth(&app.token)
            .json(&serde_json::json!({ "slug": "linked", "repo_url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{url}");
        let err: Value = resp.json().await.unwrap();
        let first = &err["error"]["fields"][0];
        assert_eq!(first["path"], "repo_url", "{url}: {err}");
        let reason = first["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{url}: {reason}");
    }
    let listed: Value = client
        .get(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().contains("\"linked\""),
        "a refused project was stored: {listed}"
    );
}
