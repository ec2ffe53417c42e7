//! Invalid runs (metadata `"valid": false`, the load runner's validity gate) are stored
//! but left out of detection, threshold rules and comparisons: a huge step in invalid
//! runs raises no alert and moves no verdict, and a side made only of invalid runs is an
//! error naming the reason, never "no change". On SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::baseline::compare_run_to_baseline;
use perfwatch_backend::charts::series_chart;
use perfwatch_backend::comparison::compare;
use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::PointFilter;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::{Store, StoreError};
use perfwatch_core::alerts::{AlertFilter, AlertKind};
use perfwatch_core::chart::ChartQuery;
use perfwatch_core::comparison::{CompareSpec, SideSpec};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    invalid_runs_with_a_huge_step_raise_no_alert,
    invalid_runs_do_not_move_a_comparison,
    the_baseline_of_a_run_skips_invalid_runs,
    read_paths_carry_the_reason,
);

const REASON: &str = "achieved rate 150/s is under 95 % of the target 200/s";

fn sha(i: usize) -> String {
    format!("{i:04x}{:036x}", 0xfeed)
}

/// ±0.5 % deterministic noise around `level`.
fn noisy(level: f64, i: usize, k: usize) -> f64 {
    let mut s = (i as u64 * 7919 + k as u64 * 104729).wrapping_mul(6364136223846793005);
    s = s.wrapping_add(1442695040888963407);
    let u = ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
    level * (1.0 + 0.01 * u)
}

async fn project(store: &Store) {
    store
        .create_project(&NewProject {
            slug: "load".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
}

/// One main-branch run at commit `i` of `latency` around `level` (ten samples),
/// marked invalid when `valid` is false.
async fn submit(store: &Store, i: usize, level: f64, valid: bool) -> i64 {
    let mut metadata = json!({"harness": "perfwatch-loadgen", "valid": valid});
    if !valid {
        metadata["invalid_reasons"] = json!([REASON]);
    }
    let run: Value = json!({
        "project": "load",
        "branch": "main",
        "testbed": "gen-1",
        "commit": {"sha": sha(i), "message": format!("commit {i}")},
        "started_at": format!("2026-01-01T{:02}:{:02}:00Z", i / 60, i % 60),
        "metadata": metadata,
        "results": [{
            "benchmark": "create_group", "measure": "latency", "unit": "ms", "direction": "lower",
            "samples": (0..10).map(|k| noisy(level, i, k)).collect::<Vec<_>>(),
        }],
    });
    let run = parse_run_json(run.to_string().as_bytes()).expect("parse");
    let run = validate_run(run).expect("valid input");
    ingest_run(store, &run, &IngestOptions::default())
        .await
        .expect("ingest")
        .run_id
}

fn filter() -> AlertFilter {
    AlertFilter {
        project: Some("load".into()),
        ..Default::default()
    }
}

async fn invalid_runs_with_a_huge_step_raise_no_alert(store: Store) {
    project(&store).await;
    // A threshold a tripled latency would breach.
    let rule = json!({"kind": "static", "max": 200.0 * 1e6}).to_string();
    let project_id = store.project("load").await.unwrap().id;
    store
        .create_threshold_rule(project_id, None, Some("latency"), &rule)
        .await
        .expect("rule");
    for i in 1..=30 {
        submit(&store, i, 100.0, true).await;
    }
    for i in 31..=35 {
        submit(&store, i, 300.0, false).await;
    }
    let settings = DetectSettings {
        threshold_history: true,
        ..DetectSettings::default()
    };
    detect_project(&store, "load", Scope::All, &settings)
        .await
        .expect("detect");
    let alerts = store.list_alerts(&filter()).await.unwrap();
    assert!(
        alerts.is_empty(),
        "invalid runs tripled the latency but must raise nothing: {alerts:#?}"
    );

    // The same step in valid runs is found, and it starts at the first valid slow run:
    // the invalid ones are not points of the series.
    for i in 36..=65 {
        submit(&store, i, 300.0, true).await;
    }
    detect_project(&store, "load", Scope::All, &settings)
        .await
        .expect("detect");
    let alerts = store.list_alerts(&filter()).await.unwrap();
    let cp = alerts
        .iter()
        .find(|a| a.kind == AlertKind::Changepoint)
        .unwrap_or_else(|| panic!("a valid step raises a change-point alert: {alerts:#?}"));
    let cp = store.alert(cp.id).await.unwrap();
    assert_eq!(cp.first_bad.sha.as_deref(), Some(sha(36).as_str()));
    assert_eq!(
        cp.last_good.as_ref().unwrap().sha.as_deref(),
        Some(sha(30).as_str())
    );
    let breaches: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::Threshold)
        .map(|a| a.id)
        .collect();
    assert!(!breaches.is_empty(), "valid slow runs breach the threshold");
    for id in breaches {
        let a = store.alert(id).await.unwrap();
        let n: usize = usize::from_str_radix(&a.first_bad.sha.clone().unwrap()[..4], 16).unwrap();
        assert!(n >= 36, "threshold alert at an invalid run (commit {n})");
    }
}

fn spec(base: &str, head: &str) -> CompareSpec {
    CompareSpec {
        base: Some(SideSpec::parse(base).unwrap()),
        head: Some(SideSpec::parse(head).unwrap()),
        ..Default::default()
    }
}

async fn invalid_runs_do_not_move_a_comparison(store: Store) {
    project(&store).await;
    let base = submit(&store, 1, 100.0, true).await;
    let valid = submit(&store, 2, 100.0, true).await;
    let invalid = submit(&store, 2, 300.0, false).await;
    submit(&store, 3, 300.0, false).await;

    // Commit 2 holds a valid run like the base and an invalid one three times slower.
    let v = compare(
        &store,
        "load",
        &spec(&format!("commit:{}", sha(1)), &format!("commit:{}", sha(2))),
    )
    .await
    .expect("compare");
    assert_eq!(v.base.runs, vec![base]);
    assert_eq!(
        v.head.runs,
        vec![valid],
        "the invalid run {invalid} is left out"
    );
    assert!(
        v.head.label.contains("1 invalid run left out") && v.head.label.contains(REASON),
        "{}",
        v.head.label
    );
    assert_eq!(v.summary.regressions, 0, "{:#?}", v.rows);
    let row = &v.rows[0];
    assert_eq!(row.head.unwrap().n, 10, "only the valid run's samples");

    // A side made only of invalid runs gives no verdict: an error with the reason.
    for s in [format!("commit:{}", sha(3)), format!("run:{invalid}")] {
        let err = compare(&store, "load", &spec(&format!("commit:{}", sha(1)), &s))
            .await
            .expect_err("no valid run on the head side");
        let StoreError::Invalid(e) = &err else {
            panic!("{err:?}")
        };
        let text = format!("{e:?}");
        assert!(
            text.contains("every run is invalid") && text.contains(REASON),
            "{text}"
        );
    }

    // The default base of a branch skips a main commit whose runs are all invalid.
    let run: Value = json!({
        "project": "load", "branch": "pr-1", "testbed": "gen-1",
        "commit": {"sha": sha(9), "message": "pr"},
        "started_at": "2026-01-01T01:00:00Z",
        "results": [{"benchmark": "create_group", "measure": "latency", "unit": "ms",
                     "direction": "lower", "samples": [100.0, 101.0, 99.0]}],
    });
    let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
    ingest_run(&store, &run, &IngestOptions::default())
        .await
        .unwrap();
    let v = compare(
        &store,
        "load",
        &CompareSpec {
            head: Some(SideSpec::parse("branch:pr-1").unwrap()),
            ..Default::default()
        },
    )
    .await
    .expect("default base");
    assert_eq!(v.base.commits, vec![sha(2)], "{}", v.base.label);
    assert_eq!(v.summary.regressions, 0);
}

async fn the_baseline_of_a_run_skips_invalid_runs(store: Store) {
    project(&store).await;
    submit(&store, 1, 100.0, true).await;
    // The parent commit of the next run has only a tripled, invalid run.
    submit(&store, 2, 300.0, false).await;
    let run = submit(&store, 3, 100.0, true).await;
    let v = compare_run_to_baseline(&store, run)
        .await
        .expect("baseline");
    assert_eq!(v.base.commits, vec![sha(1)], "{:?}", v.base);
    assert_eq!(v.summary.regressions, 0);
    assert_eq!(
        v.summary.improvements, 0,
        "the invalid 300 ms run is not the base"
    );
}

/// The run answer, the points, the chart, the run list and the run marks say which runs
/// are invalid and why; valid runs carry no reason.
async fn read_paths_carry_the_reason(store: Store) {
    project(&store).await;
    let good = submit(&store, 1, 100.0, true).await;
    let bad = submit(&store, 2, 300.0, false).await;
    let after = submit(&store, 3, 100.0, true).await;

    let detail = store.run_detail(bad).await.unwrap();
    assert_eq!(detail.invalid_reason.as_deref(), Some(REASON));
    assert_eq!(store.run_detail(good).await.unwrap().invalid_reason, None);

    let series = store
        .list_series(store.project("load").await.unwrap().id)
        .await
        .unwrap();
    let id = series[0].id;
    let points = store.points(id, &PointFilter::default()).await.unwrap();
    let why: Vec<(i64, Option<&str>)> = points
        .iter()
        .map(|p| (p.run_id, p.invalid_reason.as_deref()))
        .collect();
    assert_eq!(why, vec![(good, None), (bad, Some(REASON)), (after, None)]);

    let chart = series_chart(&store, id, ChartQuery::default())
        .await
        .unwrap();
    let drawn: Vec<(i64, Option<&str>)> = chart.lines[0]
        .points
        .iter()
        .map(|p| (p.run_id, p.invalid.as_deref()))
        .collect();
    assert_eq!(
        drawn,
        vec![(good, None), (bad, Some(REASON)), (after, None)]
    );

    let project_id = store.project("load").await.unwrap().id;
    let runs = store.recent_runs(project_id, 10).await.unwrap();
    let listed: Vec<(i64, Option<&str>)> = runs
        .iter()
        .map(|r| (r.id, r.invalid_reason.as_deref()))
        .collect();
    assert_eq!(
        listed,
        vec![(after, None), (bad, Some(REASON)), (good, None)],
        "newest first"
    );

    // The project page's sparkline, latest value and change leave the invalid run out.
    let overview = store.series_overview(project_id, None).await.unwrap();
    // Values are in the canonical unit (ns): ~1e8 for 100 ms.
    let ms = |v: f64| (v / 1e6).round();
    let spark: Vec<f64> = overview[0].spark.iter().map(|v| ms(*v)).collect();
    assert_eq!(spark, vec![100.0, 100.0], "{overview:#?}");
    assert_eq!(overview[0].latest.map(ms), Some(100.0));

    let branches = store.recent_branches(project_id, 10).await.unwrap();
    let main: Vec<(&str, i64, i64, Option<&str>)> = branches
        .iter()
        .map(|b| {
            (
                b.name.as_str(),
                b.runs,
                b.invalid_runs,
                b.invalid_reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(main, vec![("main", 3, 1, Some(REASON))]);

    let marks = store.run_marks(&[good, bad, 999_999]).await.unwrap();
    assert_eq!(marks.len(), 2, "an unknown id is left out");
    assert_eq!(marks[&bad].invalid_reason.as_deref(), Some(REASON));
    assert_eq!(marks[&good].invalid_reason, None);
    assert_eq!(marks[&bad].sha.as_deref(), Some(sha(2).as_str()));
}
