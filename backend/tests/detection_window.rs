//! Automatic detection passes read only the newest points of a commit-indexed series
//! (`DetectSettings::window`): older alerts stay as they were, recent changes are still
//! found, and a pass's read does not grow with the history. SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::alerts::AlertFilter;
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(
    window_reads_the_newest_points_in_commit_order,
    windowed_pass_keeps_alerts_before_the_window,
    windowed_pass_finds_only_recent_changes,
);

const N: usize = 400;
const WINDOW: usize = 200;

fn sha(i: usize) -> String {
    format!("{:040x}", 0xdef000 + i)
}

/// Level 100 up to commit 59, 130 from 60, 100 again from 360, with ±0.5 % noise.
fn value(i: usize) -> f64 {
    let level = if (60..360).contains(&i) { 130.0 } else { 100.0 };
    let wobble = ((i * 7919) % 101) as f64 / 100.0 - 0.5;
    level * (1.0 + 0.01 * wobble)
}

/// One series, commits 1..=N on main, stored without detection; returns the project id.
async fn history(store: &Store) -> i64 {
    let pid = store
        .create_project(&NewProject {
            slug: "win".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    for i in 1..=N {
        let body = json!({
            "project": "win",
            "commit": {"sha": sha(i)},
            "started_at": format!("2026-01-01T{:02}:{:02}:00Z", i / 60, i % 60),
            "results": [{"benchmark": "b", "measure": "time", "unit": "ns", "direction": "lower",
                         "samples": [value(i)]}],
        });
        let run = validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap();
        store
            .store_run(&run, &IngestOptions::default())
            .await
            .unwrap();
    }
    pid
}

fn windowed() -> DetectSettings {
    DetectSettings {
        window: Some(WINDOW),
        ..Default::default()
    }
}

/// First-bad commit shas of the project's alerts, sorted.
async fn alert_shas(store: &Store) -> Vec<String> {
    let filter = AlertFilter {
        project: Some("win".into()),
        ..Default::default()
    };
    let mut out = Vec::new();
    for a in store.list_alerts(&filter).await.unwrap() {
        let a = store.alert(a.id).await.unwrap();
        out.push(a.first_bad.sha.unwrap());
    }
    out.sort();
    out
}

async fn window_reads_the_newest_points_in_commit_order(store: Store) {
    let pid = history(&store).await;
    let main = store.branch_id(pid, "main").await.unwrap();
    let series = store.list_series(pid).await.unwrap()[0].id;
    let (_, points, cut) = store
        .recent_detection_points(series, main, Some(WINDOW))
        .await
        .unwrap();
    assert!(cut);
    let ords: Vec<i64> = points.iter().map(|p| p.ord.unwrap()).collect();
    assert_eq!(
        ords,
        ((N - WINDOW + 1) as i64..=N as i64).collect::<Vec<_>>()
    );
    // The window's points are the whole read's last ones, field by field.
    let (_, all) = store.detection_points(series, main).await.unwrap();
    assert_eq!(all.len(), N);
    assert_eq!(points[..], all[N - WINDOW..]);
    // A window as long as the series cuts nothing.
    let (_, whole, cut) = store
        .recent_detection_points(series, main, Some(N))
        .await
        .unwrap();
    assert!(!cut);
    assert_eq!(whole, all);
    store.close().await;
}

async fn windowed_pass_keeps_alerts_before_the_window(store: Store) {
    history(&store).await;
    let whole = DetectSettings {
        window: None,
        ..Default::default()
    };
    detect_project(&store, "win", Scope::All, &whole)
        .await
        .unwrap();
    let both = vec![sha(60), sha(360)];
    assert_eq!(alert_shas(&store).await, both);
    // The window (commits 201..=400) no longer holds the change at 60: its alert is
    // settled, not retracted as an artefact; the change at 360 is the same alert.
    let s = detect_project(&store, "win", Scope::All, &windowed())
        .await
        .unwrap();
    assert_eq!(s.alerts_retracted, 0, "{s:?}");
    assert_eq!(s.alerts_created, 0, "{s:?}");
    assert_eq!(alert_shas(&store).await, both);
    store.close().await;
}

async fn windowed_pass_finds_only_recent_changes(store: Store) {
    history(&store).await;
    let s = detect_project(&store, "win", Scope::All, &windowed())
        .await
        .unwrap();
    assert_eq!(s.alerts_created, 1, "{s:?}");
    assert_eq!(alert_shas(&store).await, vec![sha(360)]);
    store.close().await;
}
