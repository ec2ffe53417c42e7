//! The seasonal chart band after retention (issue 13): a scheduled series of 15-minute
//! points over seven weeks, with a nightly dip, weekends and ±5 % noise; the band over
//! two days of week 6 is computed on the raw points, then everything older than
//! `raw_days` (7) is rolled up by hour and the band over the same two days — now
//! entirely rolled up, as are the four weeks it reads — is computed again from the
//! hourly rollups (p50 per hour). It still covers every hour of the range, its
//! expectation matches the raw band's (mean over each hour) within 1 % at the median
//! hour and 3 % at the worst (measured: 0.3 % and 1.5 %), and it holds the rolled-up
//! line drawn there. Runs on a
//! fresh SQLite file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::metric_schedules::retention;
use perfwatch_backend::series_band::series_band;
use perfwatch_backend::store::metric_sources::ScheduleSettings;
use perfwatch_backend::store::{IngestOptions, NewProject, PointFilter};
use perfwatch_backend::Store;
use perfwatch_core::validate::{parse_run_json, validate_run};
use perfwatch_detect::band::{outside, Band};
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const STEP: i64 = 900_000;
/// 2026-11-30 00:00 UTC (a Monday): "now" of the retention pass.
const NOW: i64 = 1_796_083_200_000;
const START: i64 = NOW - 49 * DAY;

perfwatch_backend::on_both!(band_continues_over_rollups);

/// Jobs per minute at `t`: 100 by day, 30 at night (22–06), × 0.6 at weekends, a
/// smooth hourly ripple, 1 % growth a week, ±5 % noise.
fn value(t: i64, seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let noise = 1.0 + ((*seed % 2001) as f64 / 1000.0 - 1.0) * 0.05;
    let hour = (t.rem_euclid(DAY) / HOUR) as f64;
    let mut v = 100.0 * (1.0 + 0.01 * (t - START) as f64 / (7 * DAY) as f64);
    if !(6.0..22.0).contains(&hour) {
        v *= 0.3;
    }
    // 1970-01-01 was a Thursday: days 2 and 3 of each week are the weekend.
    if matches!((t.div_euclid(DAY)) % 7, 2 | 3) {
        v *= 0.6;
    }
    v * (1.0 + 0.1 * (hour / 24.0 * std::f64::consts::TAU).sin()) * noise
}

/// The raw band's mean expectation over `[hour, hour + 1 h)`.
fn hourly_mean(b: &Band, hour: i64) -> Option<f64> {
    let e: Vec<f64> = b
        .points
        .iter()
        .filter(|p| p.t >= hour && p.t < hour + HOUR)
        .map(|p| p.expected)
        .collect();
    (!e.is_empty()).then(|| e.iter().sum::<f64>() / e.len() as f64)
}

async fn band_continues_over_rollups(store: Store) {
    let project = store
        .create_project(&NewProject {
            slug: "ops".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let config = "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"jobs\"\nunit = \"jobs/min\"\ndirection = \"higher\"\nquery = 'sum(jobs)'\n";
    let source = store
        .metric_source_put(project, "prom", config, None, NOW)
        .await
        .unwrap();
    let settings = ScheduleSettings {
        timezone: "UTC".into(),
        dry_run: false,
        marker_label: None,
        raw_days: 7,
    };
    let id = store
        .metric_schedule_put(source, "jobs", 900, START - STEP, &settings, NOW)
        .await
        .unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut t = START;
    while t < NOW {
        let run = json!({
            "project": "ops", "testbed": "prometheus:prom", "run_key": format!("sched-{id}-{t}"),
            "started_at": chrono::DateTime::from_timestamp_millis(t).unwrap().to_rfc3339(),
            "trigger": "schedule",
            "results": [{"benchmark": "jobs", "measure": "jobs", "unit": "jobs/min",
                         "direction": "higher", "samples": [value(t, &mut seed)]}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        store
            .store_run(&run, &IngestOptions::default())
            .await
            .unwrap();
        t += STEP;
    }
    let series = store.list_series(project).await.unwrap()[0].id;

    // Two days of week 6 (Monday and Tuesday), raw.
    let from = NOW - 14 * DAY;
    let to = from + 2 * DAY - STEP;
    let raw_band = series_band(&store, series, from, to).await.unwrap();
    assert_eq!(
        raw_band.points.len(),
        2 * 96,
        "one band point per raw point"
    );

    let schedule = store.metric_schedule(id).await.unwrap();
    let pruned = retention(&store, &schedule, project, NOW).await.unwrap();
    assert_eq!(pruned.hours, 42 * 24, "six weeks rolled up");
    let left = store.points(series, &PointFilter::default()).await.unwrap();
    assert!(
        left.iter().all(|p| p.time >= NOW - 7 * DAY),
        "no raw point is left in the band's weeks"
    );

    let band = series_band(&store, series, from, to).await.unwrap();
    assert_eq!(
        band.points.len(),
        48,
        "one band point per rolled-up hour: {band:?}"
    );
    assert!(band.points.iter().all(|p| p.t % HOUR == 0));
    let mut diffs: Vec<f64> = band
        .points
        .iter()
        .map(|p| {
            let raw = hourly_mean(&raw_band, p.t).expect("the raw band covers the hour");
            (p.expected / raw - 1.0).abs()
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let (median, worst) = (diffs[diffs.len() / 2], diffs[diffs.len() - 1]);
    println!(
        "rolled-up vs raw band expectation: median {median:.4}, worst {worst:.4}; \
         sigma raw {:?}, rolled-up {:?}",
        raw_band.sigma, band.sigma
    );
    assert!(median < 0.01, "median hour differs by {median}");
    assert!(worst < 0.03, "worst hour differs by {worst}");

    // The line drawn over those days is the rollups' p50: the band holds it.
    let hours = store.rollups(series, from, to).await.unwrap();
    assert_eq!(hours.len(), 48);
    let inside = hours
        .iter()
        .filter(|r| outside(&band, r.hour, r.p50) == Some(false))
        .count();
    assert!(
        inside >= 45,
        "{inside} of 48 rolled-up hours inside the band"
    );
}
