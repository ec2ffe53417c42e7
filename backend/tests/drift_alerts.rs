//! Drift alerts through the store: memory creeping up over 50 commits becomes one alert
//! of kind `drift` with its slope and span (not a cascade of change-point alerts), and
//! re-detection leaves it alone. Runs on a fresh SQLite file and a fresh PostgreSQL
//! database (TEST_DATABASE_URL must be set; the PostgreSQL variant fails without it).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, AlertFilter, AlertKind};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(memory_creep_is_one_drift_alert);

/// RSS in MB at commit `i` (1-based): 200 up to commit 40, then +1 per commit up to
/// commit 90, flat at 250 after; ±0.3 MB of fixed noise.
fn rss(i: usize) -> f64 {
    let noise = [0.3, -0.2, 0.1, -0.3, 0.25, 0.0, -0.1];
    200.0 + (i.clamp(40, 90) - 40) as f64 + noise[i % 7]
}

async fn memory_creep_is_one_drift_alert(store: Store) {
    store
        .create_project(&NewProject {
            slug: "mem".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    for i in 1..=120usize {
        let run = json!({
            "project": "mem",
            "commit": {"sha": format!("{:040x}", 0xd0000 + i), "message": format!("commit {i}")},
            "started_at": format!("2026-01-01T{:02}:{:02}:00Z", i / 60, i % 60),
            "results": [{"benchmark": "server", "measure": "rss", "unit": "MB",
                         "direction": "lower", "samples": [rss(i)]}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(&store, &run, &IngestOptions::default())
            .await
            .unwrap();
    }
    // A full pass as `perfwatch detect --project` runs it.
    detect_project(&store, "mem", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    let filter = AlertFilter {
        project: Some("mem".into()),
        ..Default::default()
    };
    let alerts = store.list_alerts(&filter).await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert, not a cascade: {alerts:#?}");
    let a = store.alert(alerts[0].id).await.unwrap();
    assert_eq!(a.kind, AlertKind::Drift);
    assert_eq!(a.direction, AlertDirection::Regression);
    let d = a.details.clone().expect("a drift alert has details");
    assert_eq!(d["kind"], "drift");
    // Commit 41 is index 40: the first point that moved.
    let start = d["start"].as_u64().unwrap();
    let end = d["end"].as_u64().unwrap();
    assert!(start.abs_diff(40) <= 3, "{d}");
    assert!(end.abs_diff(90) <= 3, "{d}");
    assert_eq!(d["ongoing"], false);
    // MB are stored as bytes: 1 MB per commit.
    assert!(
        (d["slope"].as_f64().unwrap() / 1e6 - 1.0).abs() < 0.05,
        "{d}"
    );
    assert!(
        (a.relative_change - 0.25).abs() < 0.03,
        "{}",
        a.relative_change
    );
    assert!(
        (a.before_median / 1e6 - 200.0).abs() < 3.0,
        "{}",
        a.before_median
    );
    assert!(
        (a.after_median / 1e6 - 250.0).abs() < 3.0,
        "{}",
        a.after_median
    );
    // The suspect range is where the creep started.
    assert_eq!(
        a.first_bad.sha,
        Some(format!("{:040x}", 0xd0000 + start as usize + 1))
    );

    // The kind filter finds it; re-detection changes nothing.
    let drifts = store
        .list_alerts(&AlertFilter {
            kind: Some(AlertKind::Drift),
            ..filter.clone()
        })
        .await
        .unwrap();
    assert_eq!(drifts.len(), 1);
    let again = detect_project(&store, "mem", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    assert_eq!(
        (
            again.alerts_created,
            again.alerts_updated,
            again.alerts_unchanged
        ),
        (0, 0, 1),
        "{again:?}"
    );
}
