//! Alerts end to end through the store: ingest runs, detection after ingest, idempotent
//! re-detection, moved change points, grouping, threshold rules. Every scenario runs on
//! a fresh SQLite file and on a fresh PostgreSQL database (TEST_DATABASE_URL must be
//! set; the PostgreSQL variants fail without it instead of being skipped).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewAlert, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, AlertFilter, AlertKind, RangeAxis, SuspectRange};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    detection_after_ingest_creates_regression_alert_with_suspect_range,
    redetection_is_idempotent,
    moved_change_point_updates_its_alert,
    overlapping_suspect_ranges_share_one_group_across_series,
    static_threshold_on_error_rate_raises_alert,
    percent_change_threshold_against_recent_median_raises_alert,
    constant_series_raises_no_alert,
    throughput_drop_is_a_regression_and_rise_an_improvement,
    suspects_are_counted_and_capped_per_alert,
);

const REPO: &str = "https://github.com/example/driver";

fn sha(i: usize) -> String {
    format!("{:040x}", 0xabc000 + i)
}

/// Deterministic noise in [-0.5, 0.5).
fn noise(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
}

async fn project(store: &Store, slug: &str) -> i64 {
    store
        .create_project(&NewProject {
            slug: slug.into(),
            name: None,
            main_branch: None,
            repo_url: Some(REPO.into()),
        })
        .await
        .expect("project")
}

async fn submit(store: &Store, run: Value) {
    let run = parse_run_json(run.to_string().as_bytes()).expect("parse");
    let run = validate_run(run).expect("valid");
    let stored = ingest_run(store, &run, &IngestOptions::default())
        .await
        .expect("ingest");
    assert!(!stored.duplicate);
}

fn result(bench: &str, measure: &str, unit: &str, direction: &str, v: f64) -> Value {
    json!({"benchmark": bench, "measure": measure, "unit": unit, "direction": direction, "samples": [v]})
}

/// Submits one commit-indexed run per commit `1..=n` with the given results.
async fn commit_runs(store: &Store, slug: &str, n: usize, results: impl Fn(usize) -> Vec<Value>) {
    for i in 1..=n {
        submit(
            store,
            json!({
                "project": slug,
                "commit": {"sha": sha(i), "message": format!("commit {i}"), "author": "dev"},
                "started_at": format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
                "results": results(i),
            }),
        )
        .await;
    }
}

/// Level `before` for commits below `step_at`, `after` from it on, with ±0.5 % noise.
fn stepped(i: usize, step_at: usize, before: f64, after: f64, seed: u64) -> f64 {
    let mut s = seed.wrapping_add(i as u64 * 7919);
    let level = if i < step_at { before } else { after };
    level * (1.0 + 0.01 * noise(&mut s))
}

fn filter(slug: &str) -> AlertFilter {
    AlertFilter {
        project: Some(slug.into()),
        ..Default::default()
    }
}

async fn detection_after_ingest_creates_regression_alert_with_suspect_range(store: Store) {
    project(&store, "drv").await;
    commit_runs(&store, "drv", 60, |i| {
        vec![result(
            "insert",
            "time",
            "ns",
            "lower",
            stepped(i, 31, 100.0, 120.0, 1),
        )]
    })
    .await;
    let alerts = store.list_alerts(&filter("drv")).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = store.alert(alerts[0].id).await.unwrap();
    assert_eq!(a.kind, AlertKind::Changepoint);
    assert_eq!(a.direction, AlertDirection::Regression);
    assert_eq!(a.axis, RangeAxis::Commit);
    assert_eq!(a.first_bad.sha.as_deref(), Some(sha(31).as_str()));
    assert_eq!(
        a.last_good.as_ref().unwrap().sha.as_deref(),
        Some(sha(30).as_str())
    );
    assert_eq!(
        a.first_bad.url.as_deref(),
        Some(format!("{REPO}/commit/{}", sha(31)).as_str())
    );
    assert_eq!(a.range, SuspectRange { lo: 30, hi: 31 });
    assert_eq!(a.suspect_total, 1);
    assert_eq!(a.suspect_commits.len(), 1);
    assert_eq!(a.suspect_commits[0].sha, sha(31));
    assert_eq!(a.suspect_commits[0].message.as_deref(), Some("commit 31"));
    assert!(
        (a.relative_change - 0.2).abs() < 0.02,
        "{}",
        a.relative_change
    );
    assert!((a.before_median - 100.0).abs() < 1.0 && (a.after_median - 120.0).abs() < 1.2);
    assert!(a.p_value.unwrap() < 1e-3);
    assert_eq!(a.status, "untriaged");
    assert!(a.group_id.is_some());
    store.close().await;
}

async fn redetection_is_idempotent(store: Store) {
    let pid = project(&store, "drv").await;
    commit_runs(&store, "drv", 50, |i| {
        vec![
            result(
                "insert",
                "time",
                "ns",
                "lower",
                stepped(i, 21, 100.0, 130.0, 2),
            ),
            result("find", "time", "ns", "lower", stepped(i, 35, 50.0, 40.0, 3)),
        ]
    })
    .await;
    let before = store.alert_counts(pid).await.unwrap();
    assert_eq!(before.0, 2);
    let listed: Vec<_> = store.list_alerts(&filter("drv")).await.unwrap();
    let settings = DetectSettings::default();
    for _ in 0..2 {
        let s = detect_project(&store, "drv", Scope::All, &settings)
            .await
            .unwrap();
        assert_eq!(s.alerts_created, 0, "{s:?}");
        assert_eq!(s.alerts_updated, 0, "{s:?}");
        assert_eq!(s.alerts_unchanged, 2, "{s:?}");
    }
    assert_eq!(store.alert_counts(pid).await.unwrap(), before);
    let again = store.list_alerts(&filter("drv")).await.unwrap();
    assert_eq!(listed, again);
    store.close().await;
}

async fn moved_change_point_updates_its_alert(store: Store) {
    let pid = project(&store, "drv").await;
    commit_runs(&store, "drv", 50, |i| {
        vec![result(
            "insert",
            "time",
            "ns",
            "lower",
            stepped(i, 26, 100.0, 125.0, 4),
        )]
    })
    .await;
    let alerts = store.list_alerts(&filter("drv")).await.unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.range, SuspectRange { lo: 25, hi: 26 });

    // Pretend an earlier pass had placed the change 3 commits too early.
    let series = a.series.id;
    let (axis, points) = store
        .detection_points(series, store.branch_id(pid, "main").await.unwrap())
        .await
        .unwrap();
    assert_eq!(axis, RangeAxis::Commit);
    let early = |i: usize| -> NewAlert {
        NewAlert {
            series_id: series,
            kind: AlertKind::Changepoint,
            rule_id: None,
            direction: AlertDirection::Regression,
            axis,
            range: SuspectRange::between(points[i - 1].ord, points[i].ord.unwrap()),
            index: i,
            first_bad_run_id: points[i].run_id,
            last_good_run_id: Some(points[i - 1].run_id),
            first_bad_commit_id: points[i].commit_id,
            last_good_commit_id: points[i - 1].commit_id,
            first_bad_at: points[i].time,
            before_median: 100.0,
            after_median: 120.0,
            relative_change: 0.2,
            absolute_change: 20.0,
            p_value: Some(1e-5),
            details: None,
        }
    };
    let c = store
        .upsert_changepoint_alerts(pid, series, &points, &[early(22)], &[22], 5)
        .await
        .unwrap();
    assert_eq!((c.created, c.updated), (0, 1));
    let moved = store.alert(a.id).await.unwrap();
    assert_eq!(moved.range, SuspectRange { lo: 22, hi: 23 });

    // Full detection moves it back to where the data says: still one alert.
    let s = detect_project(&store, "drv", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    assert_eq!((s.alerts_created, s.alerts_updated), (0, 1), "{s:?}");
    assert_eq!(store.alert_counts(pid).await.unwrap(), (1, 1));
    let back = store.alert(a.id).await.unwrap();
    assert_eq!(back.range, SuspectRange { lo: 25, hi: 26 });
    assert!(back.updated_at >= back.created_at);

    // Far away (more than the tolerance) is another change: a new alert.
    let c = store
        .upsert_changepoint_alerts(pid, series, &points, &[early(40)], &[25, 40], 5)
        .await
        .unwrap();
    assert_eq!((c.created, c.updated), (1, 0));
    assert_eq!(store.alert_counts(pid).await.unwrap().0, 2);
    // Detection over the data does not support a change there: the untriaged alert is
    // retracted, its group with it.
    let s = detect_project(&store, "drv", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    assert_eq!(
        (s.alerts_created, s.alerts_retracted, s.alerts_unchanged),
        (0, 1, 1),
        "{s:?}"
    );
    assert_eq!(store.alert_counts(pid).await.unwrap(), (1, 1));
    store.close().await;
}

async fn overlapping_suspect_ranges_share_one_group_across_series(store: Store) {
    let pid = project(&store, "drv").await;
    commit_runs(&store, "drv", 60, |i| {
        vec![
            result(
                "insert",
                "time",
                "ns",
                "lower",
                stepped(i, 31, 100.0, 120.0, 5),
            ),
            result(
                "update",
                "time",
                "ns",
                "lower",
                stepped(i, 31, 200.0, 260.0, 6),
            ),
            result(
                "insert",
                "throughput",
                "ops/s",
                "higher",
                stepped(i, 31, 1000.0, 850.0, 7),
            ),
            result(
                "delete",
                "time",
                "ns",
                "lower",
                stepped(i, 45, 80.0, 60.0, 8),
            ),
        ]
    })
    .await;
    let alerts = store.list_alerts(&filter("drv")).await.unwrap();
    assert_eq!(alerts.len(), 4, "{alerts:#?}");
    let (alerts_n, groups_n) = store.alert_counts(pid).await.unwrap();
    assert_eq!((alerts_n, groups_n), (4, 2));
    let push = alerts
        .iter()
        .find(|a| a.series.benchmark == "update")
        .unwrap();
    let group = store.alert_group(push.group_id.unwrap()).await.unwrap();
    assert_eq!(group.alerts.len(), 3);
    assert_eq!(group.regressions, 3);
    assert_eq!(group.range, SuspectRange { lo: 30, hi: 31 });
    assert!(group.alerts.iter().all(|a| a.suspect_commits.len() == 1));
    let other = alerts
        .iter()
        .find(|a| a.series.benchmark == "delete")
        .unwrap();
    assert_ne!(other.group_id, push.group_id);
    assert_eq!(other.direction, AlertDirection::Improvement);
    let g2 = store.alert_group(other.group_id.unwrap()).await.unwrap();
    assert_eq!((g2.alerts.len(), g2.improvements), (1, 1));

    // An alert whose range bridges both groups merges them.
    let series = other.series.id;
    let (axis, points) = store
        .detection_points(series, store.branch_id(pid, "main").await.unwrap())
        .await
        .unwrap();
    let wide = NewAlert {
        series_id: series,
        kind: AlertKind::Threshold,
        rule_id: None,
        direction: AlertDirection::Regression,
        axis,
        range: SuspectRange { lo: 29, hi: 46 },
        index: 45,
        first_bad_run_id: points[45].run_id,
        last_good_run_id: Some(points[28].run_id),
        first_bad_commit_id: points[45].commit_id,
        last_good_commit_id: points[28].commit_id,
        first_bad_at: points[45].time,
        before_median: 1.0,
        after_median: 2.0,
        relative_change: 1.0,
        absolute_change: 1.0,
        p_value: None,
        details: None,
    };
    store.upsert_threshold_alerts(pid, &[wide]).await.unwrap();
    assert_eq!(store.alert_counts(pid).await.unwrap(), (5, 1));
    let all = store.list_alerts(&filter("drv")).await.unwrap();
    let g = all[0].group_id;
    assert!(all.iter().all(|a| a.group_id == g));
    let merged = store.alert_group(g.unwrap()).await.unwrap();
    assert_eq!(merged.range, SuspectRange { lo: 29, hi: 46 });
    store.close().await;
}

async fn static_threshold_on_error_rate_raises_alert(store: Store) {
    let pid = project(&store, "svc").await;
    let rule = json!({"kind": "static", "max": 0.01}).to_string();
    store
        .create_threshold_rule(pid, None, Some("error_rate"), &rule)
        .await
        .unwrap();
    // Time-indexed production metrics: no commit, no branch; one run an hour.
    for i in 0..26i64 {
        let v = if i == 25 {
            0.05
        } else {
            0.002 + 0.0001 * (i % 3) as f64
        };
        let at = chrono::DateTime::from_timestamp(1_770_000_000 + i * 3600, 0).unwrap();
        submit(
            &store,
            json!({
                "project": "svc",
                "started_at": at.to_rfc3339(),
                "results": [
                    result("POST /orders", "error_rate", "ratio", "lower", v),
                    result("POST /orders", "latency_p99", "ms", "lower", 20.0 + (i % 2) as f64),
                ],
            }),
        )
        .await;
    }
    let alerts = store.list_alerts(&filter("svc")).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.kind, AlertKind::Threshold);
    assert_eq!(a.series.measure, "error_rate");
    assert_eq!(a.direction, AlertDirection::Regression);
    assert_eq!(a.axis, RangeAxis::Time);
    assert_eq!(a.after_median, 0.05);
    assert_eq!(a.details.as_ref().unwrap()["rule"], "static");
    assert!(a.first_bad.sha.is_none());
    assert!(a.suspect_commits.is_empty());

    // On-demand detection over the whole history finds the same breach only.
    let settings = DetectSettings {
        threshold_history: true,
        ..Default::default()
    };
    let s = detect_project(&store, "svc", Scope::All, &settings)
        .await
        .unwrap();
    assert_eq!(s.threshold_alerts_created, 0, "{s:?}");
    assert_eq!(store.alert_counts(pid).await.unwrap().0, 1);
    let views = store.threshold_rule_views(pid).await.unwrap();
    assert_eq!(views.len(), 1);
    store.delete_threshold_rule(views[0].id).await.unwrap();
    assert!(store.threshold_rules(pid).await.unwrap().is_empty());
    assert_eq!(
        store.alert_counts(pid).await.unwrap().0,
        1,
        "alerts outlive their rule"
    );
    store.close().await;
}

async fn percent_change_threshold_against_recent_median_raises_alert(store: Store) {
    let pid = project(&store, "drv").await;
    commit_runs(&store, "drv", 12, |i| {
        vec![result(
            "insert",
            "time",
            "ns",
            "lower",
            100.0 + (i % 3) as f64,
        )]
    })
    .await;
    let series = store.list_series(pid).await.unwrap()[0].id;
    let rule = json!({"kind": "percent_change", "baseline": {"kind": "median_of_last", "n": 5}, "max_increase": 0.1});
    store
        .create_threshold_rule(pid, Some(series), None, &rule.to_string())
        .await
        .unwrap();
    assert!(store.list_alerts(&filter("drv")).await.unwrap().is_empty());
    submit(
        &store,
        json!({"project": "drv", "commit": {"sha": sha(13)}, "results": [result("insert", "time", "ns", "lower", 130.0)]}),
    )
    .await;
    let alerts = store.list_alerts(&filter("drv")).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.kind, AlertKind::Threshold);
    assert_eq!(a.direction, AlertDirection::Regression);
    assert_eq!(a.range, SuspectRange { lo: 12, hi: 13 });
    assert_eq!(a.first_bad.sha.as_deref(), Some(sha(13).as_str()));
    assert!(a.relative_change > 0.25, "{}", a.relative_change);
    store.close().await;
}

async fn constant_series_raises_no_alert(store: Store) {
    let pid = project(&store, "drv").await;
    commit_runs(&store, "drv", 40, |_| {
        vec![
            result("noop", "time", "ns", "lower", 5.0),
            result("noop", "alloc", "B/op", "lower", 0.0),
        ]
    })
    .await;
    let s = detect_project(&store, "drv", Scope::All, &DetectSettings::default())
        .await
        .unwrap();
    assert_eq!(s.series, 2);
    assert_eq!(s.change_points_found, 0, "{s:?}");
    assert_eq!(store.alert_counts(pid).await.unwrap(), (0, 0));
    store.close().await;
}

async fn throughput_drop_is_a_regression_and_rise_an_improvement(store: Store) {
    project(&store, "drv").await;
    commit_runs(&store, "drv", 60, |i| {
        vec![
            result(
                "bulk",
                "throughput",
                "ops/s",
                "higher",
                stepped(i, 21, 1000.0, 800.0, 9),
            ),
            result(
                "scan",
                "throughput",
                "ops/s",
                "higher",
                stepped(i, 41, 500.0, 600.0, 10),
            ),
        ]
    })
    .await;
    let mut f = filter("drv");
    f.direction = Some(AlertDirection::Regression);
    let reg = store.list_alerts(&f).await.unwrap();
    assert_eq!(reg.len(), 1, "{reg:#?}");
    assert_eq!(reg[0].series.benchmark, "bulk");
    f.direction = Some(AlertDirection::Improvement);
    let imp = store.list_alerts(&f).await.unwrap();
    assert_eq!(imp.len(), 1);
    assert_eq!(imp[0].series.benchmark, "scan");
    // Size filter in percent: the 20 % drop and the 20 % rise pass 15 %, not 25 %.
    f.direction = None;
    f.min_change = Some(15.0);
    assert_eq!(store.list_alerts(&f).await.unwrap().len(), 2);
    f.min_change = Some(25.0);
    assert_eq!(store.list_alerts(&f).await.unwrap().len(), 0);
    f.min_change = None;
    f.max_age_days = Some(1);
    assert_eq!(store.list_alerts(&f).await.unwrap().len(), 2);
    store.close().await;
}

/// Each alert of a group lists the commits of its own range (at most
/// `MAX_SUSPECT_COMMITS`, oldest first) and counts all of them; the alert list carries
/// the counts only.
async fn suspects_are_counted_and_capped_per_alert(store: Store) {
    let pid = project(&store, "drv").await;
    // 80 commits, nothing changes: no alert of detection's own.
    commit_runs(&store, "drv", 80, |_| {
        vec![
            result("insert", "time", "ns", "lower", 100.0),
            result("update", "time", "ns", "lower", 100.0),
        ]
    })
    .await;
    assert!(store.list_alerts(&filter("drv")).await.unwrap().is_empty());
    let series = store.list_series(pid).await.unwrap();
    let main = store.branch_id(pid, "main").await.unwrap();
    for (bench, lo, hi) in [("insert", 10, 70), ("update", 20, 23)] {
        let s = series.iter().find(|s| s.benchmark == bench).unwrap();
        let (axis, points) = store.detection_points(s.id, main).await.unwrap();
        assert_eq!(axis, RangeAxis::Commit);
        let bad = points.iter().position(|p| p.ord == Some(hi)).unwrap();
        let alert = NewAlert {
            series_id: s.id,
            kind: AlertKind::Changepoint,
            rule_id: None,
            direction: AlertDirection::Regression,
            axis,
            range: SuspectRange { lo, hi },
            index: bad,
            first_bad_run_id: points[bad].run_id,
            last_good_run_id: None,
            first_bad_commit_id: points[bad].commit_id,
            last_good_commit_id: None,
            first_bad_at: points[bad].time,
            before_median: 100.0,
            after_median: 120.0,
            relative_change: 0.2,
            absolute_change: 20.0,
            p_value: Some(0.001),
            details: None,
        };
        store
            .upsert_changepoint_alerts(pid, s.id, &points, &[alert], &[bad], 1)
            .await
            .unwrap();
    }
    let listed = store.list_alerts(&filter("drv")).await.unwrap();
    let mut totals: Vec<(String, i64, usize)> = listed
        .iter()
        .map(|a| {
            (
                a.series.benchmark.clone(),
                a.suspect_total,
                a.suspect_commits.len(),
            )
        })
        .collect();
    totals.sort();
    assert_eq!(
        totals,
        vec![("insert".to_string(), 60, 0), ("update".to_string(), 3, 0)]
    );
    let group = store
        .alert_group(listed[0].group_id.unwrap())
        .await
        .unwrap();
    assert_eq!(group.alerts.len(), 2, "overlapping ranges share a group");
    for a in &group.alerts {
        let (lo, total) = match a.series.benchmark.as_str() {
            "insert" => (10, 60),
            _ => (20, 3),
        };
        let shown = total.min(perfwatch_core::alerts::MAX_SUSPECT_COMMITS as i64);
        assert_eq!(a.suspect_total, total);
        let shas: Vec<&str> = a.suspect_commits.iter().map(|c| c.sha.as_str()).collect();
        let want: Vec<String> = (lo + 1..=lo + shown).map(|i| sha(i as usize)).collect();
        assert_eq!(shas, want, "{}", a.series.benchmark);
        assert_eq!(
            a.suspect_commits[0].url.as_deref(),
            Some(format!("{REPO}/commit/{}", sha(lo as usize + 1)).as_str())
        );
    }
    let one = store.alert(listed[0].id).await.unwrap();
    assert_eq!(one.suspect_total, listed[0].suspect_total);
    store.close().await;
}
