//! Retention of a scheduled production series (issue 13): raw points older than the
//! schedule's `raw_days` become hourly rollups (count, min, mean, max, p50, p95) in the
//! same transaction that deletes them; points an alert stands on are kept; a second
//! pass finds nothing to do. Runs on a fresh SQLite file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::metric_schedules::retention;
use perfwatch_backend::store::metric_sources::ScheduleSettings;
use perfwatch_backend::store::{IngestOptions, NewProject, PointFilter};
use perfwatch_backend::Store;
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

const HOUR: i64 = 3_600_000;
const STEP: i64 = 300_000;
/// 2026-11-30 00:00 UTC: "now" of the retention pass.
const NOW: i64 = 1_796_083_200_000;

perfwatch_backend::on_both!(old_points_become_hourly_rollups);

async fn old_points_become_hourly_rollups(store: Store) {
    let project = store
        .create_project(&NewProject {
            slug: "ops".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let config = "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"jobs\"\nunit = \"jobs/min\"\nquery = 'sum(jobs)'\n";
    let source = store
        .metric_source_put(project, "prom", config, None, NOW)
        .await
        .unwrap();
    let settings = ScheduleSettings {
        timezone: "UTC".into(),
        dry_run: false,
        marker_label: None,
        raw_days: 2,
    };
    let id = store
        .metric_schedule_put(source, "jobs", 300, NOW - 4 * 24 * HOUR, &settings, NOW)
        .await
        .unwrap();
    // Four days of 5-minute points as the schedule stores them: within each hour the
    // values run 0, 1, …, 11; from three days ago on they are 100 higher.
    let start = NOW - 4 * 24 * HOUR;
    let mut t = start;
    while t < NOW {
        let v = ((t % HOUR) / STEP) as f64 + if t >= NOW - 3 * 24 * HOUR { 100.0 } else { 0.0 };
        let run = json!({
            "project": "ops", "testbed": "prometheus:prom", "run_key": format!("sched-{id}-{t}"),
            "started_at": chrono::DateTime::from_timestamp_millis(t).unwrap().to_rfc3339(),
            "trigger": "schedule",
            "results": [{"benchmark": "jobs", "measure": "jobs", "unit": "jobs/min",
                         "direction": "higher", "samples": [v]}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        store
            .store_run(&run, &IngestOptions::default())
            .await
            .unwrap();
        t += STEP;
    }
    detect_project(&store, "ops", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    let alerts = perfwatch_backend::testing::seed::alerts(&store, "ops").await;
    assert_eq!(alerts.len(), 1, "the jump three days ago: {alerts:#?}");
    let kept = [
        Some(alerts[0].first_bad.run_id),
        alerts[0].last_good.as_ref().map(|p| p.run_id),
    ];

    let schedule = store.metric_schedule(id).await.unwrap();
    let pruned = retention(&store, &schedule, project, NOW).await.unwrap();
    // 48 hours × 12 points are past the 2-day retention; the alert's two points stay.
    assert_eq!(pruned.runs, 48 * 12 - 2);
    assert_eq!(pruned.hours, 48);

    let series = store.list_series(project).await.unwrap()[0].id;
    let raw = store.points(series, &PointFilter::default()).await.unwrap();
    assert_eq!(raw.len(), 48 * 12 + 2);
    for id in kept.into_iter().flatten() {
        assert!(raw.iter().any(|p| p.run_id == id), "alert point {id} kept");
    }
    let rollups = store.rollups(series, 0, i64::MAX).await.unwrap();
    assert_eq!(rollups.len(), 48);
    assert_eq!(rollups[0].hour, start);
    // The hours holding the alert's points have a point fewer.
    for r in &rollups {
        let alert_points = raw
            .iter()
            .filter(|p| kept.contains(&Some(p.run_id)) && p.time - p.time % HOUR == r.hour)
            .count() as i64;
        assert_eq!(r.n, 12 - alert_points, "hour {}", r.hour);
    }
    let plain = rollups.iter().filter(|r| r.n == 12).collect::<Vec<_>>();
    assert!(plain.len() >= 46);
    let first = plain[0];
    assert_eq!(
        (first.min, first.max, first.mean, first.p50),
        (0.0, 11.0, 5.5, 5.5)
    );
    assert!((first.p95 - 10.45).abs() < 1e-9);
    let after_jump = rollups
        .iter()
        .find(|r| r.hour == NOW - 3 * 24 * HOUR + 5 * HOUR)
        .unwrap();
    assert_eq!((after_jump.min, after_jump.max), (100.0, 111.0));

    // The chart shows the whole history: the rolled-up hours, then the raw points;
    // zoomed in on the last day, only raw points.
    let chart = perfwatch_backend::charts::series_chart(&store, series, Default::default())
        .await
        .unwrap();
    let line = &chart.lines[0];
    assert_eq!(line.total_points, 48 + 48 * 12 + 2);
    let hourly: Vec<_> = line.points.iter().filter(|p| p.run_id == 0).collect();
    assert_eq!(hourly.len(), 48);
    assert_eq!(hourly[0].x, start as f64);
    assert_eq!((hourly[0].lo, hourly[0].y, hourly[0].hi), (0.0, 5.5, 11.0));
    let zoomed = perfwatch_backend::charts::series_chart(
        &store,
        series,
        perfwatch_core::chart::ChartQuery {
            from: Some((NOW - 24 * HOUR) as f64),
            to: Some(NOW as f64),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(zoomed.lines[0].points.iter().all(|p| p.run_id != 0));
    assert_eq!(zoomed.lines[0].points.len(), 24 * 12);

    // Nothing new is old enough: a second pass does nothing.
    let again = retention(&store, &schedule, project, NOW).await.unwrap();
    assert_eq!((again.runs, again.hours), (0, 0));
    assert_eq!(store.rollups(series, 0, i64::MAX).await.unwrap(), rollups);
}
