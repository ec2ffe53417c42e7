//! The REST API against the real server, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_tests::*;
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    db:
    submitted_run_is_listed_and_charted,
    resubmitted_run_is_not_duplicated,
    commits_take_consecutive_order_on_their_branch,
    points_filter_by_commit_and_time,
    release_is_stored_and_placed_on_its_commit,
    writes_need_a_valid_token,
    scoped_token_cannot_write_to_another_project,
    unknown_project_is_rejected_unless_auto_created,
    time_indexed_runs_have_no_commit_order,
    pages_render_on_the_server,
    chart_overlays_testbeds_and_branches_and_switches_axes,
    background_detection_raises_the_alert_after_the_answer,
);

async fn submitted_run_is_listed_and_charted(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    let (status, receipt) = post_run(
        &app,
        &run_json(
            "driver",
            &sha(1),
            &[("BenchmarkA", 100.0), ("BenchmarkB", 2e6)],
        ),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["duplicate"], false);
    assert_eq!(receipt["series"], 2);
    assert!(receipt["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/runs/{}", receipt["run_id"])));

    let (_, series) = get_json(&app, "/api/v1/projects/driver/series").await;
    let series = series.as_array().unwrap();
    assert_eq!(series.len(), 2);
    let b = series
        .iter()
        .find(|s| s["benchmark"] == "BenchmarkB")
        .unwrap();
    assert_eq!(b["unit"], "ns/op");
    assert_eq!(b["direction"], "lower");
    assert_eq!(b["testbed"], "ci-linux");

    let (status, points) = get_json(&app, &format!("/api/v1/series/{}/points", b["id"])).await;
    assert_eq!(status, 200);
    let p = &points.as_array().unwrap()[0];
    assert_eq!(p["median"], 2e6);
    assert_eq!(p["n"], 3);
    assert_eq!(p["ord"], 1);
    assert_eq!(p["sha"], sha(1));

    let (_, run) = get_json(&app, &format!("/api/v1/runs/{}", receipt["run_id"])).await;
    assert_eq!(run["measurements"].as_array().unwrap().len(), 2);
    assert_eq!(
        run["commit"]["url"],
        format!("https://github.com/example/repo/commit/{}", sha(1))
    );
    let samples = &run["measurements"][0]["samples"];
    assert_eq!(samples.as_array().unwrap().len(), 3, "raw samples are kept");
}

async fn resubmitted_run_is_not_duplicated(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    let mut body = run_json("driver", &sha(1), &[("BenchmarkA", 100.0)]);
    body["run_key"] = json!("ci-123-1");
    let (s1, r1) = post_run(&app, &body).await;
    let before = app.store.row_counts().await.unwrap();
    let (s2, r2) = post_run(&app, &body).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(r2["duplicate"], true);
    assert_eq!(r1["run_id"], r2["run_id"]);
    assert_eq!(
        app.store.row_counts().await.unwrap(),
        before,
        "nothing new stored"
    );
}

async fn commits_take_consecutive_order_on_their_branch(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    for i in 1..=5 {
        let (s, _) = post_run(
            &app,
            &run_json("driver", &sha(i), &[("BenchmarkA", 100.0 + i as f64)]),
        )
        .await;
        assert_eq!(s, 201);
    }
    // A second run of an already measured commit stays at that commit's order.
    post_run(&app, &run_json("driver", &sha(3), &[("BenchmarkA", 103.5)])).await;
    let (_, series) = get_json(&app, "/api/v1/projects/driver/series").await;
    let (_, points) = get_json(&app, &format!("/api/v1/series/{}/points", series[0]["id"])).await;
    let ords: Vec<i64> = points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ord"].as_i64().unwrap())
        .collect();
    assert_eq!(ords, vec![1, 2, 3, 3, 4, 5]);
}

async fn points_filter_by_commit_and_time(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    for i in 1..=6 {
        let mut body = run_json("driver", &sha(i), &[("BenchmarkA", i as f64)]);
        body["started_at"] = json!(format!("2026-01-0{i}T00:00:00Z"));
        post_run(&app, &body).await;
    }
    let (_, series) = get_json(&app, "/api/v1/projects/driver/series").await;
    let id = series[0]["id"].as_i64().unwrap();
    let medians = |v: Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["median"].as_f64().unwrap())
            .collect()
    };
    let (_, pts) = get_json(
        &app,
        &format!(
            "/api/v1/series/{id}/points?from_commit={}&to_commit={}",
            &sha(2)[..12],
            sha(4)
        ),
    )
    .await;
    assert_eq!(medians(pts), vec![2.0, 3.0, 4.0]);
    let (_, pts) = get_json(
        &app,
        &format!("/api/v1/series/{id}/points?from_time=2026-01-05T00:00:00Z"),
    )
    .await;
    assert_eq!(medians(pts), vec![5.0, 6.0]);
    let (_, pts) = get_json(
        &app,
        &format!("/api/v1/series/{id}/points?branch=main&from_ord=6"),
    )
    .await;
    assert_eq!(medians(pts), vec![6.0]);
    let (status, err) = get_json(
        &app,
        &format!("/api/v1/series/{id}/points?from_time=yesterday"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["fields"][0]["path"], "from_time");
}

async fn release_is_stored_and_placed_on_its_commit(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    for i in 1..=3 {
        post_run(&app, &run_json("driver", &sha(i), &[("BenchmarkA", 1.0)])).await;
    }
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{}/api/v1/annotations", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"project": "driver", "name": "v1.2.0", "kind": "release", "commit": sha(2)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = client
        .post(format!("{}/api/v1/annotations", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"project": "driver", "name": "new runners", "kind": "infra", "time": "2026-02-01T10:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let (_, markers) = get_json(&app, "/api/v1/projects/driver/annotations").await;
    let m = markers.as_array().unwrap();
    assert_eq!(m.len(), 2);
    let release = m.iter().find(|m| m["name"] == "v1.2.0").unwrap();
    assert_eq!(release["ord"], 2);
    assert_eq!(release["kind"], "release");
    // Same name twice is a conflict naming the field.
    let resp = client
        .post(format!("{}/api/v1/annotations", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"project": "driver", "name": "v1.2.0", "kind": "release", "commit": sha(3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["path"], "name");
}

async fn writes_need_a_valid_token(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    let body = run_json("driver", &sha(1), &[("BenchmarkA", 1.0)]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/runs", app.base);
    let none = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = client
        .post(&url)
        .bearer_auth("pw_not_a_token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let (id, secret) = perfwatch_backend::tokens::create_token(&app.store, "ci", None)
        .await
        .unwrap();
    app.store.revoke_token(id).await.unwrap();
    let revoked = client
        .post(&url)
        .bearer_auth(&secret)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
    let err: Value = revoked.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    assert_eq!(
        app.store
            .row_counts()
            .await
            .unwrap()
            .iter()
            .find(|(t, _)| t == "runs")
            .unwrap()
            .1,
        0
    );
    // Tokens are stored hashed: the secret is nowhere in the database.
    let hashes: Vec<String> = perfwatch_backend::testing::rows::token_hashes(&app.store)
        .await
        .unwrap();
    assert!(hashes.iter().all(|h| h.len() == 64 && !h.contains(&secret)));
}

async fn scoped_token_cannot_write_to_another_project(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    create_project(&app, "service").await;
    let (_, scoped) =
        perfwatch_backend::tokens::create_token(&app.store, "driver-ci", Some("driver"))
            .await
            .unwrap();
    let client = reqwest::Client::new();
    let post = |body: Value| {
        client
            .post(format!("{}/api/v1/runs", app.base))
            .bearer_auth(&scoped)
            .json(&body)
            .send()
    };
    assert_eq!(
        post(run_json("driver", &sha(1), &[("A", 1.0)]))
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(run_json("service", &sha(1), &[("A", 1.0)]))
            .await
            .unwrap()
            .status(),
        403
    );
}

async fn unknown_project_is_rejected_unless_auto_created(db: Db) {
    let app = spawn_app(db).await;
    let (status, err) = post_run(&app, &run_json("nobody", &sha(1), &[("A", 1.0)])).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["path"], "project");
    assert!(err["error"]["fields"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("unknown project"));
    drop(app);
    let app = spawn_app_with(db, |c| c.auto_create_projects = true).await;
    let (status, _) = post_run(&app, &run_json("newbie", &sha(1), &[("A", 1.0)])).await;
    assert_eq!(status, 201);
    let (_, p) = get_json(&app, "/api/v1/projects/newbie").await;
    assert_eq!(p["run_count"], 1);
}

async fn time_indexed_runs_have_no_commit_order(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "prod").await;
    for h in 0..3 {
        let body = json!({
            "project": "prod",
            "started_at": format!("2026-03-01T0{h}:00:00Z"),
            "results": [{"benchmark": "background_jobs", "measure": "jobs_per_minute", "unit": "jobs/min",
                         "direction": "higher", "samples": [100.0 + h as f64]}]
        });
        assert_eq!(post_run(&app, &body).await.0, 201);
    }
    let (_, series) = get_json(&app, "/api/v1/projects/prod/series").await;
    assert_eq!(series[0]["direction"], "higher");
    let (_, points) = get_json(&app, &format!("/api/v1/series/{}/points", series[0]["id"])).await;
    let pts = points.as_array().unwrap();
    assert_eq!(pts.len(), 3);
    assert!(pts.iter().all(|p| p["ord"].is_null() && p["sha"].is_null()));
    assert!(pts[0]["time"].as_i64() < pts[2]["time"].as_i64());
}

async fn pages_render_on_the_server(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    for i in 1..=4 {
        post_run(
            &app,
            &run_json("driver", &sha(i), &[("BenchmarkFindOne", 100.0 * i as f64)]),
        )
        .await;
    }
    let client = reqwest::Client::new();
    client
        .post(format!("{}/api/v1/annotations", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"project": "driver", "name": "v9.9.9", "kind": "release", "commit": sha(3)}))
        .send()
        .await
        .unwrap();
    let (s, html) = get_text(&app, "/").await;
    assert_eq!(s, 200);
    assert!(html.contains("/projects/driver"));
    let (s, html) = get_text(&app, "/projects/driver").await;
    assert_eq!(s, 200);
    assert!(html.contains("BenchmarkFindOne") && html.contains("class=\"spark\""));
    let (_, series) = get_json(&app, "/api/v1/projects/driver/series").await;
    let (s, html) = get_text(&app, &format!("/series/{}", series[0]["id"])).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("data-testid=\"trend-chart\""),
        "chart is server-rendered"
    );
    assert!(
        html.contains("data-marker=\"v9.9.9\""),
        "release marker is drawn"
    );
    assert!(html.contains("class=\"median\""));
    let (s, html) = get_text(&app, "/series/999999").await;
    assert_eq!(s, 404);
    assert!(html.contains("not found"));
}

async fn chart_overlays_testbeds_and_branches_and_switches_axes(db: Db) {
    let app = spawn_app(db).await;
    create_project(&app, "driver").await;
    for i in 1..=6 {
        for testbed in ["linux", "arm"] {
            let mut body = run_json("driver", &sha(i), &[("BenchmarkA", 100.0 * i as f64)]);
            body["testbed"] = json!(testbed);
            body["started_at"] = json!(format!("2026-01-0{i}T00:00:00Z"));
            assert_eq!(post_run(&app, &body).await.0, 201);
        }
    }
    let mut pr = run_json("driver", &sha(100), &[("BenchmarkA", 50.0)]);
    pr["branch"] = json!("feature/x");
    pr["testbed"] = json!("linux");
    pr["started_at"] = json!("2026-01-04T12:00:00Z");
    assert_eq!(post_run(&app, &pr).await.0, 201);
    let (_, series) = get_json(&app, "/api/v1/projects/driver/series").await;
    let id_of = |tb: &str| {
        series
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["testbed"] == tb)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (linux, arm) = (id_of("linux"), id_of("arm"));

    let lines = |html: &str| html.matches("class=\"line\"").count();
    let (_, html) = get_text(&app, &format!("/series/{linux}")).await;
    assert_eq!(lines(&html), 1);
    assert!(
        html.contains(&format!("data-overlay=\"{arm}\"")),
        "the other testbed is offered as an overlay"
    );
    let (_, html) = get_text(
        &app,
        &format!("/series/{linux}?overlay={arm}&branches=feature/x"),
    )
    .await;
    assert_eq!(
        lines(&html),
        3,
        "main line, the arm testbed and the feature branch"
    );
    assert!(html.contains("arm · main") && html.contains("linux · feature/x"));

    // Time axis: ticks are dates; log scale: ticks are powers of ten.
    let (_, html) = get_text(&app, &format!("/series/{linux}?x=time")).await;
    assert!(html.contains(">Jan 2<"), "time axis labels are dates");
    let (_, html) = get_text(&app, &format!("/series/{linux}?scale=log")).await;
    assert!(html.contains(">100 ns/op<"), "log axis has a tick at 100");
    // Highlighted runs (a comparison's two sides) are ringed.
    let (_, pts) = get_json(&app, &format!("/api/v1/series/{linux}/points?branch=main")).await;
    let run = pts[2]["run_id"].as_i64().unwrap();
    let (_, html) = get_text(&app, &format!("/series/{linux}?highlight={run}")).await;
    assert_eq!(html.matches("class=\"highlight\"").count(), 1);
    assert!(html.contains(&format!("data-run=\"{run}\"")));
    // A zoomed range shows only the points inside it.
    let (_, html) = get_text(&app, &format!("/series/{linux}?from=2&to=4")).await;
    assert_eq!(html.matches("class=\"pt\"").count(), 3);
}

/// The server default: detection runs in the background worker, not in the request.
async fn background_detection_raises_the_alert_after_the_answer(db: Db) {
    let app = spawn_app_with(db, |c| c.detect_inline = false).await;
    create_project(&app, "driver").await;
    for i in 1..=30u64 {
        let v = if i > 15 { 125.0 } else { 100.0 } + (i % 3) as f64 * 0.5;
        let mut body = run_json(
            "driver",
            &sha(i),
            &[
                ("BenchmarkA", v),
                ("BenchmarkB", 50.0 + (i % 2) as f64 * 0.1),
            ],
        );
        body["results"][0]["samples"] = json!([v * 0.995, v, v * 1.005, v * 1.002, v * 0.998]);
        assert_eq!(post_run(&app, &body).await.0, 201);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let alerts = loop {
        let (status, alerts) = get_json(&app, "/api/v1/alerts?project=driver").await;
        assert_eq!(status, 200);
        if !alerts.as_array().unwrap().is_empty() {
            break alerts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no alert 30 s after the runs were stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let text = alerts.to_string();
    assert!(
        text.contains("BenchmarkA") && !text.contains("BenchmarkB"),
        "{text}"
    );
    assert!(text.contains("regression"), "{text}");
}
