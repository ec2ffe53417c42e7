//! Chart marks of a series' alerts (`Store::alert_marks`, what the chart draws): each
//! mark carries the same id, group, kind, direction, range and change as the alert it
//! draws. Runs on a fresh SQLite file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a failing unwrap is the test failing"
)]

use perfwatch_backend::testing::seed::{project, submit};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, AlertKind, RangeAxis, TriageState};
use serde_json::json;

perfwatch_backend::on_both!(chart_marks_match_the_alerts_of_the_series);

/// One commit-indexed run per commit: latency 100 ns before commit 31, 125 ns from it on.
async fn stepped_history(store: &Store) {
    project(store, "drv").await;
    for i in 1..=60_usize {
        // Deterministic ±0.4 % wobble so the series is not constant.
        let level = if i < 31 { 100.0 } else { 125.0 };
        let v = level * (1.0 + 0.004 * (((i * 37) % 11) as f64 / 10.0 - 0.5));
        let run = json!({
            "project": "drv",
            "commit": {"sha": format!("{:040x}", 0xdef000 + i), "message": "c", "author": "dev"},
            "started_at": format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
            "results": [{"benchmark": "insert", "measure": "time", "unit": "ns",
                         "direction": "lower", "samples": [v]}],
        });
        submit(store, &run).await;
    }
}

async fn chart_marks_match_the_alerts_of_the_series(store: Store) {
    stepped_history(&store).await;
    let alerts = perfwatch_backend::testing::seed::alerts(&store, "drv").await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.direction, AlertDirection::Regression);

    let marks = store.alert_marks(a.series.id).await.unwrap();
    assert_eq!(marks.len(), 1, "{marks:#?}");
    let m = &marks[0];
    assert_eq!(m.id, a.id);
    assert!(a.group_id.is_some());
    assert_eq!(m.group_id, a.group_id);
    assert_eq!(m.kind, AlertKind::Changepoint);
    assert_eq!(m.direction, AlertDirection::Regression);
    assert_eq!(m.axis, RangeAxis::Commit);
    assert_eq!(m.range, a.range);
    assert_eq!(m.first_bad_at, a.first_bad.time);
    assert!(
        (m.relative_change - 0.25).abs() < 0.02,
        "{}",
        m.relative_change
    );
    assert_eq!(m.state, TriageState::Untriaged);
    store.close().await;
}
