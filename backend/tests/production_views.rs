//! The data behind issue 13's production pages, on a fresh SQLite file and a fresh
//! PostgreSQL database: five weeks of hourly jobs-per-minute (higher is better) and
//! latency (lower is better) with a nightly dip and weekends, read by a schedule of a
//! metric source, and three deploys. At v3 jobs drop by 20 % and latency falls by
//! 20 %.
//!
//! - Deploy sparklines: the band follows the night; before v3 almost every point is
//!   inside it, after v3 almost every jobs point is below it; the query text is the
//!   schedule's query and links to the source's graph over the sparkline's range.
//! - Release trend: v1 and v2 read "same" for both metrics; at v3 jobs read worse
//!   (lower, higher is better) and latency better (lower, lower is better).
//! - Series band: over the last two days of a quiet series the band holds nearly every
//!   point.
//! - Test query: input errors name the field; an unreachable source is an answer with
//!   the error, over the latest run's window (not a scheduled run's).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use perfwatch_backend::deploy_band::deploy_sparklines;
use perfwatch_backend::query_test::{test_query, TestInput, TestWindow};
use perfwatch_backend::release_trend::{release_trend, Reading};
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::series_band::series_band;
use perfwatch_backend::store::metric_sources::ScheduleSettings;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::{Store, StoreError};
use perfwatch_core::model::{AnnotationInput, AnnotationKind, ResultInput, RunSubmission};
use perfwatch_core::units::Direction;
use perfwatch_detect::seasonal::SeasonalConfig;

perfwatch_backend::on_both!(views);

/// Friday 2026-11-27 14:00 UTC: v3.
fn v3() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap()
}

fn shape(t: DateTime<Utc>, week: f64) -> f64 {
    let mut v = 1.0 + 0.01 * week;
    if !(6..22).contains(&t.hour()) {
        v *= 0.3;
    }
    if t.weekday().number_from_monday() >= 6 {
        v *= 0.6;
    }
    v
}

const SOURCE_CONFIG: &str = "url = \"http://127.0.0.1:1/prom\"\n\n[[query]]\nname = \"jobs_per_min\"\nunit = \"count\"\ndirection = \"higher\"\nquery = 'sum(rate(jobs_total[{{window}}])) * 60'\n";

async fn load(store: &Store) -> (i64, Vec<i64>) {
    store
        .create_project(&NewProject {
            slug: "shop".into(),
            name: None,
            main_branch: Some("main".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    let project = store.project("shop").await.unwrap().id;
    let source = store
        .metric_source_put(project, "prod", SOURCE_CONFIG, None, 0)
        .await
        .unwrap();
    let settings = ScheduleSettings {
        timezone: "UTC".into(),
        dry_run: false,
        marker_label: None,
        raw_days: 90,
    };
    store
        .metric_schedule_put(source, "jobs_per_min", 3600, 0, &settings, 0)
        .await
        .unwrap();
    let start = v3() - Duration::weeks(5);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        1.0 + ((seed % 2001) as f64 / 1000.0 - 1.0) * 0.02
    };
    for h in 0..(5 * 168 + 48) {
        let t = start + Duration::hours(h);
        let s = shape(t, h as f64 / 168.0);
        let after = if t >= v3() { 0.8 } else { 1.0 };
        let result = |name: &str, unit: &str, dir: Direction, v: f64| ResultInput {
            benchmark: name.into(),
            measure: name.into(),
            unit: unit.into(),
            direction: Some(dir),
            samples: vec![v],
            ..ResultInput::default()
        };
        let run = RunSubmission {
            project: "shop".into(),
            testbed: Some("prometheus:prod".into()),
            started_at: Some(t),
            finished_at: Some(t + Duration::hours(1)),
            trigger: Some("schedule".into()),
            run_key: Some(format!("h{h}")),
            results: vec![
                result(
                    "jobs_per_min",
                    "count",
                    Direction::Higher,
                    1000.0 * s * after * noise(),
                ),
                // Latency is lowest at night (little load) and falls at v3 too.
                result(
                    "latency",
                    "ms",
                    Direction::Lower,
                    80.0 * s.sqrt() * after * noise(),
                ),
            ],
            ..RunSubmission::default()
        };
        let valid = perfwatch_core::validate::validate_run(run).unwrap();
        store
            .store_run(&valid, &IngestOptions::default())
            .await
            .unwrap();
    }
    let mut markers = Vec::new();
    for (name, at) in [
        ("v1", v3() - Duration::days(13) - Duration::hours(4)),
        ("v2", v3() - Duration::days(6) + Duration::hours(2)),
        ("v3", v3()),
    ] {
        markers.push(
            store
                .add_annotation(&AnnotationInput {
                    project: "shop".into(),
                    name: name.into(),
                    kind: AnnotationKind::Deploy,
                    commit: None,
                    time: Some(at),
                    description: None,
                })
                .await
                .unwrap(),
        );
    }
    (project, markers)
}

async fn views(store: Store) {
    let (project, markers) = load(&store).await;
    let cfg = SeasonalConfig::default();

    // Deploy sparklines at v3.
    let sparks = deploy_sparklines(&store, "shop", markers[2], &cfg)
        .await
        .unwrap();
    assert_eq!(sparks.len(), 2);
    let series = store.list_series(project).await.unwrap();
    let id_of = |name: &str| series.iter().find(|s| s.benchmark == name).unwrap().id;
    let jobs = sparks
        .iter()
        .find(|s| s.series_id == id_of("jobs_per_min"))
        .unwrap();
    let d = v3().timestamp_millis();
    assert_eq!(
        (jobs.from, jobs.to, jobs.deploy),
        (d - 86_400_000, d + 86_400_000, d)
    );
    assert_eq!(
        jobs.band.points.len(),
        49,
        "hourly over 48 h: {:?}",
        jobs.band
    );
    let night = jobs
        .band
        .points
        .iter()
        .find(|p| p.t == d + 12 * 3_600_000)
        .unwrap();
    let day = jobs
        .band
        .points
        .iter()
        .find(|p| p.t == d - 3_600_000)
        .unwrap();
    assert!(
        night.expected < 0.5 * day.expected,
        "the band follows the night: {night:?} {day:?}"
    );
    let before_outside = jobs
        .observed
        .iter()
        .filter(|(t, v)| {
            *t < d && perfwatch_detect::band::outside(&jobs.band, *t, *v) == Some(true)
        })
        .count();
    assert!(
        before_outside <= 2,
        "{before_outside} of 24 normal points outside the band"
    );
    assert_eq!(jobs.after, 25);
    assert!(
        jobs.after_outside >= 22,
        "{} of 25 dropped points outside",
        jobs.after_outside
    );
    let q = jobs.query.as_ref().expect("the schedule's query");
    assert_eq!(q.source, "prod");
    assert_eq!(q.text, "sum(rate(jobs_total[3600s])) * 60");
    let url = q.graph_url.as_deref().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:1/prom/graph?g0.expr=sum%28rate%28jobs_total%5B3600s%5D%29%29+*+60&g0.tab=0&g0.range_input=48h&g0.end_input=2026-11-28+14%3A00%3A00"),
        "{url}"
    );
    // Latency is read by no schedule: no query, still a band.
    let lat = sparks
        .iter()
        .find(|s| s.series_id == id_of("latency"))
        .unwrap();
    assert!(lat.query.is_none());
    assert!(lat.after_outside >= 20, "{}", lat.after_outside);

    // Release trend: the last two of three, then all three.
    let t = release_trend(&store, "shop", 2, &cfg).await.unwrap();
    assert_eq!(
        t.releases
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["v2", "v3"]
    );
    let t = release_trend(&store, "shop", 10, &cfg).await.unwrap();
    assert_eq!(
        t.releases
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["v1", "v2", "v3"]
    );
    let row = |name: &str| {
        t.rows
            .iter()
            .find(|r| r.series.benchmark == name)
            .unwrap()
            .cells
            .iter()
            .map(|c| c.reading)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("jobs_per_min"),
        [Reading::Same, Reading::Same, Reading::Worse],
        "{t:?}"
    );
    assert_eq!(
        row("latency"),
        [Reading::Same, Reading::Same, Reading::Better],
        "{t:?}"
    );
    let v3_jobs = &t
        .rows
        .iter()
        .find(|r| r.series.benchmark == "jobs_per_min")
        .unwrap()
        .cells[2];
    let change = v3_jobs.change_pct.unwrap();
    assert!(
        (-25.0..=-15.0).contains(&change),
        "about −20 %: {v3_jobs:?}"
    );
    let e = release_trend(&store, "shop", 0, &cfg).await.unwrap_err();
    assert!(msg(&e).starts_with("last: "), "{}", msg(&e));

    // The chart band over the two days before v3 (no change there).
    let from = d - 2 * 86_400_000;
    let band = series_band(&store, id_of("jobs_per_min"), from, d - 3_600_000)
        .await
        .unwrap();
    assert_eq!(band.points.len(), 48, "{band:?}");
    let pts = store
        .points(id_of("jobs_per_min"), &Default::default())
        .await
        .unwrap();
    let inside = pts
        .iter()
        .filter(|p| p.time >= from && p.time <= d - 3_600_000)
        .filter(|p| perfwatch_detect::band::outside(&band, p.time, p.median) == Some(false))
        .count();
    assert!(
        inside >= 45,
        "{inside} of 48 normal points inside the chart band"
    );
    let e = series_band(&store, id_of("jobs_per_min"), d, d)
        .await
        .unwrap_err();
    assert!(msg(&e).contains("to: must be after from"), "{e}");

    // Test query: a bad template names the field; an unreachable source is an answer.
    let key = SealKey::generate();
    let input = |template: &'static str, source: &'static str| TestInput {
        source,
        template,
        by: "",
        window: TestWindow::LatestRun,
    };
    let e = test_query(&store, &key, "shop", &input("sum(rate(jobs_total[", "prod"))
        .await
        .unwrap_err();
    assert!(msg(&e).starts_with("query: "), "{}", msg(&e));
    let e = test_query(&store, &key, "shop", &input("up", "nope"))
        .await
        .unwrap_err();
    assert!(
        msg(&e).starts_with("source: ") && msg(&e).contains("nope"),
        "{}",
        msg(&e)
    );
    assert!(msg(&TestWindow::parse("week").unwrap_err()).starts_with("window: "));
    // No load run yet: the last settled hour.
    let r = test_query(&store, &key, "shop", &input("sum(up)", "prod"))
        .await
        .unwrap();
    assert_eq!(r.window, "the last hour");
    assert_eq!(r.end - r.start, 3_600_000);
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("unreachable")),
        "{r:?}"
    );
    // A load run: its window, not the newer scheduled runs'.
    let load_start = v3() - Duration::days(1);
    let run = RunSubmission {
        project: "shop".into(),
        started_at: Some(load_start),
        finished_at: Some(load_start + Duration::minutes(10)),
        trigger: Some("load".into()),
        results: vec![ResultInput {
            benchmark: "GET /".into(),
            measure: "latency".into(),
            unit: "ms".into(),
            samples: vec![12.0],
            ..ResultInput::default()
        }],
        ..RunSubmission::default()
    };
    let valid = perfwatch_core::validate::validate_run(run).unwrap();
    let stored = store
        .store_run(&valid, &IngestOptions::default())
        .await
        .unwrap();
    let r = test_query(&store, &key, "shop", &input("sum(up)", "prod"))
        .await
        .unwrap();
    assert_eq!(r.window, format!("run {}", stored.run_id));
    assert_eq!(
        (r.start, r.end),
        (
            load_start.timestamp_millis(),
            load_start.timestamp_millis() + 600_000
        )
    );
    assert_eq!(r.query_text.as_deref(), Some("sum(up)"));
}

/// The message a user sees: for invalid input, the field and why.
fn msg(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
