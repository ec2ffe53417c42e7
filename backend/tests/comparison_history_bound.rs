//! A comparison reads only the recent main-branch history its noise needs (the last
//! `NOISE_RUNS` levels per series), not the whole history: the soak measured every
//! comparison's memory growing with the data when it read all of it
//! (docs/benchmarks.md, "Soak"). These tests hold the bounded read to the same
//! answer as the full one: the same rows per series in the same order, and the same
//! noise in the comparison, on a history longer than the bound whose old part is far
//! noisier than its recent part (so picking the wrong rows changes the figure). Both
//! databases; PostgreSQL fails without TEST_DATABASE_URL instead of being skipped.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::comparison::compare;
use perfwatch_backend::comparison_history::{MainHistory, NOISE_RUNS};
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::comparison::{CompareSpec, SideSpec};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(
    recent_levels_are_the_tail_of_the_full_history,
    comparison_noise_equals_the_full_history_noise,
);

/// Runs on main: more than the bound, so the bounded read must leave some out.
const RUNS: usize = NOISE_RUNS + 40;

fn sha(i: usize) -> String {
    format!("{i:040x}")
}

/// Level of run `i` of benchmark `k`: ±20 % swings in the oldest 40 runs, ±1 % after.
fn level(i: usize, k: usize) -> f64 {
    let swing = if i < RUNS - NOISE_RUNS { 0.2 } else { 0.01 };
    let sign = if (i * 7 + k * 3) % 5 < 2 { -1.0 } else { 1.0 };
    (100.0 + 50.0 * k as f64) * (1.0 + sign * swing * ((i % 3) as f64 + 1.0) / 3.0)
}

async fn history(store: &Store) {
    store
        .create_project(&NewProject {
            slug: "hist".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
    for i in 0..RUNS {
        // Start times out of commit order every few runs: the order is commit order
        // first, as in the full read.
        let minute = if i % 4 == 0 { i + 2 } else { i };
        let time = format!("2026-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60);
        let run = json!({
            "project": "hist", "branch": "main", "testbed": "ci-linux",
            "commit": {"sha": sha(i), "message": format!("commit {i}"), "time": time},
            "started_at": time,
            "results": (0..3).map(|k| {
                let v = level(i, k);
                json!({"benchmark": format!("B{k}"), "measure": "time", "unit": "ns",
                       "samples": [v * 0.999, v, v * 1.001]})
            }).collect::<Vec<_>>(),
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).expect("parse"))
            .expect("valid");
        ingest_run(store, &run, &IngestOptions::default())
            .await
            .expect("ingest");
    }
}

async fn recent_levels_are_the_tail_of_the_full_history(store: Store) {
    history(&store).await;
    let project = store.project("hist").await.unwrap();
    let main = store
        .branch_id(project.id, "main")
        .await
        .unwrap()
        .expect("main");
    let full = store.main_levels(project.id, main).await.unwrap();
    let recent = store
        .recent_main_levels(project.id, main, NOISE_RUNS)
        .await
        .unwrap();
    assert_eq!(full.len(), 3 * RUNS);
    assert_eq!(recent.len(), 3 * NOISE_RUNS);
    let mut want = Vec::new();
    for chunk in full.chunk_by(|a, b| a.series_id == b.series_id) {
        want.extend_from_slice(&chunk[chunk.len() - NOISE_RUNS..]);
    }
    assert_eq!(recent, want);
}

async fn comparison_noise_equals_the_full_history_noise(store: Store) {
    history(&store).await;
    let project = store.project("hist").await.unwrap();
    let full = MainHistory::load(&store, &project).await.unwrap();
    let spec = CompareSpec {
        base: Some(SideSpec::Commit(sha(RUNS - 10))),
        head: Some(SideSpec::Commit(sha(RUNS - 1))),
        ..Default::default()
    };
    let view = compare(&store, "hist", &spec).await.expect("compare");
    assert_eq!(view.rows.len(), 3);
    for row in &view.rows {
        let want = full.noise(row.series.id).expect("noise").pct();
        let got = row.noise_pct.expect("noise in the comparison");
        assert!(
            (got - want).abs() < 1e-9,
            "{}: noise {got} from the bounded read, {want} from the full history",
            row.series.benchmark
        );
        // The old ±20 % swings are outside the last NOISE_RUNS runs: a read of the
        // wrong rows would show a noise of several %.
        assert!(got < 2.0, "{}: noise {got} %", row.series.benchmark);
    }
}
