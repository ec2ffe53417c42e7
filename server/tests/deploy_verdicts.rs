//! Deploy verdicts over production series with daily and weekly cycles (issue 13): five
//! weeks of hourly, time-indexed runs of two metrics — background jobs per minute and
//! cache reads, both dipping every night to 30 % and to 60 % at weekends — and a deploy
//! marker on a Friday at 20:00, right before the night and the weekend. Jobs drop by
//! 25 % from the deploy on; cache reads do not change. `GET
//! /api/v1/projects/{slug}/deploys/{id}` says jobs are lower, by about a quarter with an
//! interval around it, and cache reads pass: the dip and the weekend are expected.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{Datelike, Duration, TimeZone, Timelike, Utc};
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_core::model::{AnnotationInput, AnnotationKind, ResultInput, RunSubmission};
use perfwatch_server::testing::{spawn_app_with, Db};
use serde_json::Value;

/// The level of an hour: day 100 %, night (22–06) 30 %, weekends 60 %; 1 % growth a
/// week; ±3 % noise from a fixed-seed generator.
fn level(t: chrono::DateTime<Utc>, week: f64, noise: f64) -> f64 {
    let night = !(6..22).contains(&t.hour());
    let weekend = t.weekday().number_from_monday() >= 6;
    let mut v = 1000.0 * (1.0 + 0.01 * week);
    if night {
        v *= 0.3;
    }
    if weekend {
        v *= 0.6;
    }
    v * (1.0 + noise)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_drop_is_found_and_the_nightly_dip_is_not() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    app.store
        .create_project(&NewProject {
            slug: "shop".into(),
            name: None,
            main_branch: Some("main".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    // Friday 2026-11-27 20:00 UTC; five weeks before it and three days after.
    let deploy = Utc.with_ymd_and_hms(2026, 11, 27, 20, 0, 0).unwrap();
    let start = deploy - Duration::weeks(5);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed % 2001) as f64 / 1000.0 - 1.0) * 0.03
    };
    let hours = (deploy - start).num_hours() + 72;
    for h in 0..hours {
        let t = start + Duration::hours(h);
        let week = h as f64 / 168.0;
        let after = t >= deploy;
        let jobs = level(t, week, noise()) * if after { 0.75 } else { 1.0 };
        let reads = level(t, week, noise()) * 40.0;
        let result = |name: &str, v: f64| ResultInput {
            benchmark: name.into(),
            measure: name.into(),
            unit: "count".into(),
            samples: vec![v],
            ..ResultInput::default()
        };
        let run = RunSubmission {
            project: "shop".into(),
            started_at: Some(t),
            finished_at: Some(t + Duration::hours(1)),
            trigger: Some("schedule".into()),
            run_key: Some(format!("h{h}")),
            results: vec![result("jobs_per_min", jobs), result("cache_reads", reads)],
            ..RunSubmission::default()
        };
        let valid = perfwatch_core::validate::validate_run(run).unwrap();
        app.store
            .store_run(&valid, &IngestOptions::default())
            .await
            .unwrap();
    }
    let marker = app
        .store
        .add_annotation(&AnnotationInput {
            project: "shop".into(),
            name: "v4.2".into(),
            kind: AnnotationKind::Deploy,
            commit: None,
            time: Some(deploy),
            description: None,
        })
        .await
        .unwrap();
    let v: Value = reqwest::get(format!(
        "{}/api/v1/projects/shop/deploys/{marker}?window_h=12",
        app.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let metric = |name: &str| {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["series"]["benchmark"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} judged: {v}"))
    };
    let jobs = metric("jobs_per_min");
    assert_eq!(jobs["verdict"]["verdict"], "lower", "{jobs}");
    let change = jobs["verdict"]["change_pct"].as_f64().unwrap();
    assert!((-30.0..=-20.0).contains(&change), "about −25 %: {jobs}");
    let (lo, hi) = (
        jobs["verdict"]["low_pct"].as_f64().unwrap(),
        jobs["verdict"]["high_pct"].as_f64().unwrap(),
    );
    assert!(lo <= change && change <= hi, "{jobs}");
    assert!(jobs["p_adjusted"].as_f64().unwrap() < 0.05, "{jobs}");
    let reads = metric("cache_reads");
    assert_eq!(
        reads["verdict"]["verdict"], "pass",
        "the night dip and the weekend are expected: {reads}"
    );
    // The deploy page shows the same, server-rendered.
    let html = reqwest::get(format!("{}/projects/shop/deploys/{marker}", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"deploy-verdicts\""), "{html}");
    assert!(html.contains("data-verdict=\"lower\"") && html.contains("jobs_per_min"));
    assert!(html.contains("data-verdict=\"pass\""));
    let list = reqwest::get(format!("{}/projects/shop/deploys", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains(&format!("/projects/shop/deploys/{marker}")),
        "{list}"
    );
    // A history longer than the API allows is refused, naming the field.
    let r = reqwest::get(format!(
        "{}/api/v1/projects/shop/deploys/{marker}?weeks=60",
        app.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 422, "weeks out of range is refused");

    // The backtest of each metric over the three weeks up to the data's end: the deploy
    // is flagged for jobs only, and random moments away from it pass.
    let backtest = |name: &'static str| {
        let (base, v) = (app.base.clone(), v.clone());
        async move {
            let id = v["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["series"]["benchmark"] == name)
                .unwrap()["series"]["id"]
                .as_i64()
                .unwrap();
            let to = (deploy + Duration::days(3))
                .to_rfc3339()
                .replace('+', "%2B");
            let r = reqwest::get(format!(
                "{base}/api/v1/series/{id}/backtest?days=21&probes=60&to={to}"
            ))
            .await
            .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let jobs = backtest("jobs_per_min").await;
    let reads = backtest("cache_reads").await;
    assert_eq!(jobs["markers"], 1, "{jobs}");
    assert_eq!(jobs["report"]["deploys_flagged"], 1, "{jobs}");
    assert_eq!(jobs["report"]["alerts_near_deploys"], 1, "{jobs}");
    assert_eq!(reads["report"]["deploys_flagged"], 0, "{reads}");
    for b in [&jobs, &reads] {
        assert_eq!(b["report"]["alerts_elsewhere"], 0, "{b}");
        assert!(b["report"]["probes_judged"].as_u64().unwrap() >= 40, "{b}");
        assert!(
            b["report"]["false_alarm_rate"].as_f64().unwrap() <= 0.1,
            "{b}"
        );
    }
    let r = reqwest::get(format!("{}/api/v1/series/1/backtest?days=0", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("days"));
}
