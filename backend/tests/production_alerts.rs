//! Detection on production series (issue 13): five weeks of hourly, time-indexed metrics
//! with a nightly dip to 30 %, weekends at 60 %, growth and ±3 % noise. Over the weeks
//! the cycle raises no alert; a 15 % drop of background jobs at a deploy raises exactly
//! one alert, placed at the deploy and naming it, while the unchanged cache reads stay
//! quiet. Runs on a fresh SQLite file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, AlertFilter, AlertKind};
use perfwatch_core::model::{AnnotationInput, AnnotationKind};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(
    cycle_is_quiet_and_a_deploy_drop_is_one_alert,
    a_dry_run_schedule_records_but_announces_nothing
);

/// Wednesday 2026-11-25 14:00 UTC.
fn deploy() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap()
}

fn level(t: DateTime<Utc>, weeks: f64, noise: f64) -> f64 {
    let mut v = 1500.0 * 1.01f64.powf(weeks);
    if !(6..22).contains(&t.hour()) {
        v *= 0.3;
    }
    if t.weekday().number_from_monday() >= 6 {
        v *= 0.6;
    }
    v * (1.0 + noise)
}

/// Creates the project, then stores its data (see [`data`]).
async fn load(store: &Store, slug: &str, drop: bool) {
    store
        .create_project(&NewProject {
            slug: slug.into(),
            name: None,
            main_branch: Some("main".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    data(store, slug, "production", drop).await;
}

/// Stores the markers, the weeks, then the last day point by point with detection.
async fn data(store: &Store, slug: &str, testbed: &str, drop: bool) {
    let start = deploy() - Duration::weeks(5);
    let end = deploy() + Duration::days(4);
    // Routine deploys every three days at 10:00, and the one that matters.
    let mut d = start + Duration::hours(10);
    let mut n = 0;
    while d < end {
        if (d - deploy()).num_hours().abs() > 24 {
            n += 1;
            marker(store, slug, &format!("deploy v{n}"), d).await;
        }
        d += Duration::days(3);
    }
    marker(store, slug, "deploy v42", deploy()).await;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed % 2001) as f64 / 1000.0 - 1.0) * 0.03
    };
    let mut t = start;
    while t < end {
        let weeks = (t - start).num_hours() as f64 / 168.0;
        let factor = if drop && t >= deploy() { 0.85 } else { 1.0 };
        let run = json!({
            "project": slug,
            "testbed": testbed,
            "started_at": t.to_rfc3339(),
            "finished_at": t.to_rfc3339(),
            "trigger": "schedule",
            "results": [
                {"benchmark": "background_jobs", "measure": "jobs_per_minute", "unit": "jobs/min",
                 "direction": "higher", "samples": [level(t, weeks, noise()) * factor]},
                {"benchmark": "cache", "measure": "reads_per_hour", "unit": "reads/h",
                 "direction": "higher", "samples": [40.0 * level(t, weeks, noise())]},
            ],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        // The last day arrives as a schedule delivers it: each point followed by a
        // detection pass over its series (cheaper to store the weeks before at once).
        if end - t <= Duration::days(1) {
            ingest_run(store, &run, &IngestOptions::default())
                .await
                .unwrap();
        } else {
            store
                .store_run(&run, &IngestOptions::default())
                .await
                .unwrap();
        }
        t += Duration::hours(1);
    }
}

async fn marker(store: &Store, slug: &str, name: &str, at: DateTime<Utc>) {
    store
        .add_annotation(&AnnotationInput {
            project: slug.into(),
            name: name.into(),
            kind: AnnotationKind::Deploy,
            commit: None,
            time: Some(at),
            description: None,
        })
        .await
        .unwrap();
}

async fn cycle_is_quiet_and_a_deploy_drop_is_one_alert(store: Store) {
    load(&store, "steady", false).await;
    load(&store, "shop", true).await;
    let filter = |slug: &str| AlertFilter {
        project: Some(slug.into()),
        ..Default::default()
    };

    let quiet = store.list_alerts(&filter("steady")).await.unwrap();
    assert!(
        quiet.is_empty(),
        "five weeks of nightly dips and weekends raise nothing: {quiet:#?}"
    );

    let alerts = store.list_alerts(&filter("shop")).await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert, at the deploy: {alerts:#?}");
    let a = store.alert(alerts[0].id).await.unwrap();
    assert_eq!(a.kind, AlertKind::Changepoint);
    assert_eq!(a.series.benchmark, "background_jobs");
    assert_eq!(a.direction, AlertDirection::Regression);
    let at = deploy().timestamp_millis();
    let first_bad = a.first_bad.time;
    assert!(
        first_bad >= at && first_bad <= at + 7 * 3_600_000,
        "placed at the deploy: {first_bad} vs {at}"
    );
    assert!(
        (-0.20..=-0.10).contains(&a.relative_change),
        "about −15 %: {}",
        a.relative_change
    );
    let d = a.details.clone().expect("production details");
    assert_eq!(d["kind"], "production", "{d}");
    assert_eq!(d["cycle"], "week", "{d}");
    assert_eq!(d["deploy"]["name"], "deploy v42", "{d}");

    // Detecting again changes nothing.
    let s = detect_project(&store, "shop", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    assert_eq!(s.alerts_created, 0);
    assert_eq!(store.list_alerts(&filter("shop")).await.unwrap().len(), 1);
}

/// The same deploy drop in two projects whose jobs series comes from a schedule, one of
/// them in dry run: both record the alert, only the other one's subscriber hears of it.
async fn a_dry_run_schedule_records_but_announces_nothing(store: Store) {
    use perfwatch_backend::store::metric_sources::ScheduleSettings;
    let admin = perfwatch_backend::testing::seed::admin(&store, "admin").await;
    let config = "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"background_jobs\"\nunit = \"jobs/min\"\nquery = 'sum(jobs)'\n";
    for (slug, dry_run) in [("loud", false), ("quiet", true)] {
        let pid = store
            .create_project(&NewProject {
                slug: slug.into(),
                name: None,
                main_branch: Some("main".into()),
                repo_url: None,
            })
            .await
            .unwrap();
        let source = store
            .metric_source_put(pid, "prom", config, None, 0)
            .await
            .unwrap();
        let settings = ScheduleSettings {
            timezone: "UTC".into(),
            dry_run,
            marker_label: None,
            raw_days: 3650,
        };
        store
            .metric_schedule_put(source, "background_jobs", 3600, 0, &settings, 0)
            .await
            .unwrap();
        let events = ["alert_group.created".to_string()];
        perfwatch_backend::notify::create_webhook(
            &store,
            &perfwatch_backend::secrets::SealKey::generate(),
            &admin,
            slug,
            "http://127.0.0.1:9/hook",
            "json",
            &events,
            None,
        )
        .await
        .unwrap();
        data(&store, slug, "prometheus:prom", true).await;
        let alerts = perfwatch_backend::testing::seed::alerts(&store, slug).await;
        assert_eq!(alerts.len(), 1, "{slug}: {alerts:#?}");
        let a = store.alert(alerts[0].id).await.unwrap();
        assert_eq!(a.details.unwrap()["dry_run"], dry_run, "{slug}");
        let deliveries = perfwatch_backend::notify::list_deliveries(&store, &admin, slug)
            .await
            .unwrap();
        assert_eq!(
            deliveries.len(),
            usize::from(!dry_run),
            "{slug}: {deliveries:#?}"
        );
    }
}
