//! The comparison use case through the store: every kind of side resolves, a
//! pull-request branch defaults to the main branch at its merge-base, series on one
//! side only are added/removed, and a 10 %-slower head is a regression. Every scenario
//! runs on a fresh SQLite file and on a fresh PostgreSQL database (TEST_DATABASE_URL
//! must be set; the PostgreSQL variants fail without it instead of being skipped).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::comparison::compare;
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::comparison::{CompareSpec, RowVerdict, SideSpec};
use perfwatch_core::model::{AnnotationInput, AnnotationKind};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    resolves_every_kind_of_side,
    pull_request_base_defaults_to_main_at_merge_base,
    series_on_one_side_only_are_added_or_removed,
    ten_percent_slower_head_is_a_regression,
    ambiguous_or_unknown_sides_are_rejected,
);

/// Distinct from the 5th digit on; all share the prefix `abcd`.
fn sha(i: usize) -> String {
    format!("abcd{i:02x}{:034x}", 0xc0ffee)
}

/// Ten samples around `level`, ±1 % deterministic noise.
fn samples(level: f64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(7);
    (0..10)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            level * (1.0 + 0.02 * u)
        })
        .collect()
}

async fn project(store: &Store) {
    store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
}

/// One run at commit `i` on `branch`, at minute `minute`, with `(benchmark, level)`.
async fn submit(
    store: &Store,
    branch: &str,
    i: usize,
    minute: usize,
    results: &[(&str, f64)],
) -> i64 {
    let time = format!("2026-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60);
    let run: Value = json!({
        "project": "drv",
        "branch": branch,
        "testbed": "ci-linux",
        "commit": {"sha": sha(i), "message": format!("commit {i}"), "time": time},
        "started_at": time,
        "results": results.iter().enumerate().map(|(k, (b, v))| json!({
            "benchmark": b, "measure": "time", "unit": "ns", "samples": samples(*v, (i * 31 + k) as u64)
        })).collect::<Vec<_>>(),
    });
    let run = parse_run_json(run.to_string().as_bytes()).expect("parse");
    let run = validate_run(run).expect("valid");
    ingest_run(store, &run, &IngestOptions::default())
        .await
        .expect("ingest")
        .run_id
}

fn spec(base: Option<&str>, head: &str) -> CompareSpec {
    CompareSpec {
        base: base.map(|b| SideSpec::parse(b).unwrap()),
        head: Some(SideSpec::parse(head).unwrap()),
        ..Default::default()
    }
}

async fn release(store: &Store, name: &str, i: usize) {
    let a: AnnotationInput = serde_json::from_value(json!({
        "project": "drv", "name": name, "kind": "release", "commit": sha(i)
    }))
    .expect("annotation");
    assert_eq!(a.kind, AnnotationKind::Release);
    store.add_annotation(&a).await.expect("release");
}

async fn resolves_every_kind_of_side(store: Store) {
    project(&store).await;
    let mut runs = Vec::new();
    for i in 1..=4 {
        let level = if i >= 3 { 110.0 } else { 100.0 };
        runs.push(
            submit(
                &store,
                "main",
                i,
                i * 10,
                &[("Suite/a", level), ("Suite/b", 50.0)],
            )
            .await,
        );
    }
    // A second run at commit 4 is pooled with the first.
    let extra = submit(&store, "main", 4, 45, &[("Suite/a", 110.0)]).await;
    release(&store, "v1", 1).await;
    release(&store, "v2", 4).await;

    let v = compare(
        &store,
        "drv",
        &spec(
            Some(&format!("commit:{}", &sha(1)[..12])),
            &format!("commit:{}", sha(4)),
        ),
    )
    .await
    .expect("commit vs commit");
    assert_eq!(v.base.runs, vec![runs[0]]);
    assert_eq!(v.head.runs, vec![runs[3], extra]);
    let a = v
        .rows
        .iter()
        .find(|r| r.series.benchmark == "Suite/a")
        .unwrap();
    assert_eq!(
        a.head.unwrap().n,
        20,
        "samples of both runs at the commit are pooled"
    );
    assert_eq!(a.group, "Suite");

    let v = compare(
        &store,
        "drv",
        &spec(Some(&format!("run:{}", runs[1])), "branch:main"),
    )
    .await
    .expect("run vs branch head");
    assert_eq!(v.base.runs, vec![runs[1]]);
    assert_eq!(v.head.commits, vec![sha(4)]);

    let v = compare(&store, "drv", &spec(Some("release:v1"), "release:v2"))
        .await
        .expect("release vs release");
    assert_eq!(v.base.commits, vec![sha(1)]);
    assert_eq!(v.head.commits, vec![sha(4)]);
    assert_eq!(v.summary.regressions, 1);

    // Minutes 10..25 hold the runs at commits 1 and 2; 30..45 those at 3 and 4.
    let v = compare(
        &store,
        "drv",
        &spec(
            Some("time:2026-01-01T00:10:00Z..2026-01-01T00:25:00Z"),
            "time:2026-01-01T00:30:00Z..2026-01-01T00:45:00Z",
        ),
    )
    .await
    .expect("time windows");
    assert_eq!(v.base.runs, vec![runs[0], runs[1]]);
    assert_eq!(v.head.runs, vec![runs[2], runs[3], extra]);
    let a = v
        .rows
        .iter()
        .find(|r| r.series.benchmark == "Suite/a")
        .unwrap();
    assert_eq!(a.verdict, RowVerdict::Regression);
}

async fn pull_request_base_defaults_to_main_at_merge_base(store: Store) {
    project(&store).await;
    submit(&store, "main", 1, 10, &[("x", 100.0)]).await;
    submit(&store, "main", 2, 20, &[("x", 100.0)]).await;
    // The branch starts at minute 25: after main's commit 2, before commit 3.
    submit(&store, "main", 3, 30, &[("x", 100.0)]).await;
    submit(&store, "pr-7", 10, 25, &[("x", 100.0)]).await;
    submit(&store, "pr-7", 11, 35, &[("x", 100.0)]).await;
    let v = compare(&store, "drv", &spec(None, "branch:pr-7"))
        .await
        .expect("default base");
    assert!(v.base_defaulted);
    assert_eq!(v.base.commits, vec![sha(2)], "main at the merge-base");
    assert_eq!(v.head.commits, vec![sha(11)], "the branch head");
    assert_eq!(v.spec.base, Some(SideSpec::Commit(sha(2))));
    // The main branch has no default base.
    let err = compare(&store, "drv", &spec(None, "branch:main"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid"), "{err}");
}

async fn series_on_one_side_only_are_added_or_removed(store: Store) {
    project(&store).await;
    submit(&store, "main", 1, 10, &[("kept", 100.0), ("old", 5.0)]).await;
    submit(&store, "main", 2, 20, &[("kept", 100.0), ("new", 7.0)]).await;
    let v = compare(
        &store,
        "drv",
        &spec(
            Some(&format!("commit:{}", sha(1))),
            &format!("commit:{}", sha(2)),
        ),
    )
    .await
    .expect("compare");
    let verdict = |b: &str| {
        v.rows
            .iter()
            .find(|r| r.series.benchmark == b)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict("old"), RowVerdict::Removed);
    assert_eq!(verdict("new"), RowVerdict::Added);
    assert_eq!(verdict("kept"), RowVerdict::NoChange);
    assert_eq!((v.summary.added, v.summary.removed), (1, 1));
}

async fn ten_percent_slower_head_is_a_regression(store: Store) {
    project(&store).await;
    submit(
        &store,
        "main",
        1,
        10,
        &[("Insert/one", 100.0), ("Insert/many", 300.0)],
    )
    .await;
    submit(
        &store,
        "main",
        2,
        20,
        &[("Insert/one", 110.0), ("Insert/many", 300.0)],
    )
    .await;
    let mut s = spec(
        Some(&format!("commit:{}", sha(1))),
        &format!("commit:{}", sha(2)),
    );
    let v = compare(&store, "drv", &s).await.expect("compare");
    let one = v
        .rows
        .iter()
        .find(|r| r.series.benchmark == "Insert/one")
        .unwrap();
    assert_eq!(one.verdict, RowVerdict::Regression);
    let c = one.change_pct.unwrap();
    assert!((c - 10.0).abs() < 2.0, "change {c}");
    assert!(one.change_low.unwrap() > 0.0);
    assert!(one.p_adjusted.unwrap() < 0.05);
    assert_eq!(v.summary.regressions, 1);
    assert_eq!(
        v.rows[0].series.benchmark, "Insert/one",
        "regressions sort first"
    );
    let g = v.summary.geomean.change_pct.unwrap();
    assert!(g > 3.0 && g < 6.0, "geomean {g}");
    // Filters keep the summary but drop rows.
    s.only_significant = true;
    let v = compare(&store, "drv", &s).await.expect("compare");
    assert_eq!(v.rows.len(), 1);
    assert_eq!(v.total_rows, 2);
    assert_eq!(v.summary.total, 2);
}

async fn ambiguous_or_unknown_sides_are_rejected(store: Store) {
    project(&store).await;
    submit(&store, "main", 1, 10, &[("x", 100.0)]).await;
    submit(&store, "main", 2, 20, &[("x", 100.0)]).await;
    // sha(1) and sha(2) share their first 4 digits.
    let prefix = &sha(1)[..4];
    let err = compare(
        &store,
        "drv",
        &spec(Some(&format!("commit:{prefix}")), "branch:main"),
    )
    .await
    .unwrap_err();
    assert!(format!("{err:?}").contains("ambiguous"), "{err:?}");
    let err = compare(&store, "drv", &spec(Some("release:nope"), "branch:main"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    let err = compare(&store, "drv", &spec(Some("run:999999"), "branch:main"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}
