//! `POST /api/v1/projects/{slug}/metric-sources/{name}/test-query` against a real
//! Prometheus over backfilled data (perfwatch-sources' test support), on SQLite and
//! PostgreSQL: without credentials 401; a viewer or a triage token 403 (it calls the
//! source with its stored credentials, so admins only); a broken template 422 naming
//! `query`, an unknown window 422 naming `window`, an unknown source 422 naming
//! `source`; a good template 200 with the rate over the latest run's window.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{TimeZone, Utc};
use perfwatch_backend::accounts::Role;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use perfwatch_sources::testing::{self as prom, RATE_A, T0};
use reqwest::header;
use serde_json::{json, Value};

perfwatch_backend::on_both!(db, multi_thread: test_query_refuses_non_admins_and_names_bad_fields);

enum Who<'a> {
    Nobody,
    Token(&'a str),
    Session(&'a str),
}

async fn post(app: &TestApp, who: Who<'_>, source: &str, body: Value) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/projects/svc/metric-sources/{source}/test-query",
            app.base
        ))
        .header(header::ORIGIN, &app.base)
        .json(&body);
    match who {
        Who::Nobody => {}
        Who::Token(t) => r = r.bearer_auth(t),
        Who::Session(s) => r = r.header(header::COOKIE, format!("pw_session={s}")),
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn test_query_refuses_non_admins_and_names_bad_fields(db: Db) {
    if !prom::available() {
        return;
    }
    let p = prom::start().await;
    let app = spawn_app_with(db, |c| c.auto_create_projects = true).await;
    let http = reqwest::Client::new();
    let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap().to_rfc3339();
    // A load run over five minutes of the Prometheus data: the window tested.
    let r = http
        .post(format!("{}/api/v1/runs", app.base))
        .bearer_auth(&app.token)
        .json(&json!({
            "project": "svc", "started_at": at(T0), "finished_at": at(T0 + 300),
            "results": [{"benchmark": "load", "measure": "time", "unit": "ms", "samples": [1.0]}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let config = format!(
        "url = \"{}\"\nsettle = \"0s\"\nscrape_interval = \"1s\"\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = 'sum(up)'\n",
        p.url
    );
    let r = http
        .put(format!(
            "{}/api/v1/projects/svc/metric-sources/prom",
            app.base
        ))
        .bearer_auth(&app.token)
        .json(&json!({ "config": config }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let st = &app.store;
    perfwatch_backend::accounts::create_user(
        st,
        "viewer",
        perfwatch_server::testing::PASSWORD,
        Some(Role::Viewer),
    )
    .await
    .unwrap();
    let viewer = app.login("viewer").await;
    let (_, triage) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "tri", None, "triage")
            .await
            .unwrap();
    let good = json!({"query": "sum(rate(http_requests_total{endpoint=\"a\"}[{{window}}]))"});

    let (s, b) = post(&app, Who::Nobody, "prom", good.clone()).await;
    assert_eq!(s, 401, "{b}");
    let (s, b) = post(&app, Who::Session(&viewer), "prom", good.clone()).await;
    assert_eq!(s, 403, "a viewer: {b}");
    let (s, b) = post(&app, Who::Token(&triage), "prom", good.clone()).await;
    assert_eq!(s, 403, "a triage token: {b}");

    for (body, source, field) in [
        (
            json!({"query": "sum(rate(http_requests_total["}),
            "prom",
            "query",
        ),
        (
            json!({"query": "sum(up)", "window": "week"}),
            "prom",
            "window",
        ),
        (good.clone(), "nope", "source"),
    ] {
        let (s, b) = post(&app, Who::Token(&app.token), source, body).await;
        assert_eq!(s, 422, "{field}: {b}");
        assert!(
            b.to_string().contains(&format!("\"{field}\"")),
            "names {field}: {b}"
        );
    }
    let (s, b) = post(
        &app,
        Who::Token(&app.token),
        "prom",
        json!({"query": "up", "extra": 1}),
    )
    .await;
    assert!(s == 400 || s == 422, "unknown field refused: {s} {b}");

    let (s, b) = post(&app, Who::Token(&app.token), "prom", good).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["window"].as_str().unwrap().starts_with("run "), "{b}");
    assert_eq!(b["start"], T0 * 1000);
    assert_eq!(b["end"], (T0 + 300) * 1000);
    assert!(b["error"].is_null(), "{b}");
    let v = &b["values"][0];
    assert!((v["value"].as_f64().unwrap() - RATE_A).abs() < 0.01, "{b}");
    assert_eq!(v["coverage"].as_f64(), Some(1.0), "{b}");
    assert_eq!(
        b["query_text"],
        "sum(rate(http_requests_total{endpoint=\"a\"}[300s]))"
    );
}
