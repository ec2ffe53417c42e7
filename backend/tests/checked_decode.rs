//! Status and kind columns decode through checked enums: text the code does not know
//! is an error naming the table and column, never a silent default (a token whose
//! scopes were unreadable used to pass as a read-only token; an unknown group state
//! as "untriaged"). On a fresh SQLite file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::error::StoreError;
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::NewAlert;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::testing::rows;
use perfwatch_backend::tokens::{check_token, create_token_with_scopes, TokenCheck};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, AlertKind, SuspectRange};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(
    unknown_token_scope_is_an_error_naming_the_column,
    unknown_group_state_is_an_error_naming_the_column,
    an_alert_without_a_p_value_does_not_break_the_next_one_with_it,
);

/// The error must be a data error that names `table.column` and the bad value.
fn assert_names(e: StoreError, column: &str, value: &str) {
    match e {
        StoreError::Data(m) => {
            assert!(m.contains(column) && m.contains(value), "{m}")
        }
        other => panic!("expected a data error naming {column}, got {other:?}"),
    }
}

async fn unknown_token_scope_is_an_error_naming_the_column(store: Store) {
    let (id, secret) = create_token_with_scopes(&store, "ci", None, "ingest")
        .await
        .unwrap();
    assert!(matches!(
        check_token(&store, &secret).await.unwrap(),
        TokenCheck::Valid(_)
    ));
    rows::set_token_scopes_text(&store, id, "ingest,root")
        .await
        .unwrap();
    assert_names(
        check_token(&store, &secret).await.unwrap_err(),
        "api_tokens.scopes",
        "root",
    );
    assert_names(
        store.list_tokens().await.unwrap_err(),
        "api_tokens.scopes",
        "root",
    );
}

async fn unknown_group_state_is_an_error_naming_the_column(store: Store) {
    store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    // 40 commits, 20 % slower from commit 21: one alert in one group.
    for i in 1..=40usize {
        let level = if i < 21 { 100.0 } else { 120.0 };
        let samples: Vec<f64> = (0..5)
            .map(|k| level * (1.0 + 0.002 * (((i * 3 + k * 7) % 5) as f64 - 2.0)))
            .collect();
        let run = json!({
            "project": "drv",
            "commit": {"sha": format!("{:040x}", 0xabc000 + i)},
            "started_at": format!("2026-01-01T00:{i:02}:00Z"),
            "results": [{"benchmark": "insert", "measure": "time", "unit": "ns", "samples": samples}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(&store, &run, &IngestOptions::default())
            .await
            .unwrap();
    }
    let alerts = perfwatch_backend::testing::seed::alerts(&store, "drv").await;
    let gid = alerts
        .iter()
        .find_map(|a| a.group_id)
        .expect("the step made a group");
    assert!(store.alert_group(gid).await.is_ok());
    rows::set_group_state_text(&store, gid, "snoozed")
        .await
        .unwrap();
    assert_names(
        store.alert_group(gid).await.unwrap_err(),
        "alert_groups.state",
        "snoozed",
    );
}

/// An optional float written as NULL, then as a value by the same statement on the same
/// connection. sqlx 0.9.0 sends the NULL typed `float4`; PostgreSQL caches the
/// statement with that type and refused the next value ("incorrect binary data format
/// in bind parameter 18") — a threshold alert (no p-value) followed by a change-point
/// alert (with one) failed detection on PostgreSQL.
async fn an_alert_without_a_p_value_does_not_break_the_next_one_with_it(store: Store) {
    store
        .create_project(&NewProject {
            slug: "ops".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    for i in 1..=4usize {
        let run = json!({
            "project": "ops",
            "started_at": format!("2026-01-01T00:{i:02}:00Z"),
            "results": [
                {"benchmark": "a", "measure": "time", "unit": "ns", "samples": [100.0]},
                {"benchmark": "b", "measure": "time", "unit": "ns", "samples": [100.0]},
                {"benchmark": "c", "measure": "time", "unit": "ns", "samples": [100.0]},
            ],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(&store, &run, &IngestOptions::default())
            .await
            .unwrap();
    }
    let project_id = rows::projects_named(&store, "ops").await.unwrap();
    let mut series = store.list_series(project_id).await.unwrap();
    series.sort_by(|x, y| x.benchmark.cmp(&y.benchmark));
    // Sequential writes reuse one pooled connection, so the second and third inserts
    // run the statement the first one prepared.
    for (s, p_value) in series.iter().zip([None, Some(0.001), Some(0.002)]) {
        let (axis, points) = store.detection_points(s.id, None).await.unwrap();
        let alert = NewAlert {
            series_id: s.id,
            kind: AlertKind::Changepoint,
            rule_id: None,
            direction: AlertDirection::Regression,
            axis,
            range: SuspectRange {
                lo: points[1].time,
                hi: points[2].time,
            },
            index: 2,
            first_bad_run_id: points[2].run_id,
            last_good_run_id: Some(points[1].run_id),
            first_bad_commit_id: None,
            last_good_commit_id: None,
            first_bad_at: points[2].time,
            before_median: 150.0,
            after_median: 350.0,
            relative_change: 1.33,
            absolute_change: 200.0,
            p_value,
            details: None,
        };
        store
            .upsert_changepoint_alerts(project_id, s.id, &points, &[alert], &[2], 1)
            .await
            .unwrap_or_else(|e| panic!("alert on {} with p-value {p_value:?}: {e}", s.benchmark));
    }
    let mut stored: Vec<_> = perfwatch_backend::testing::seed::alerts(&store, "ops")
        .await
        .into_iter()
        .map(|a| (a.series.benchmark, a.p_value))
        .collect();
    stored.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        stored,
        vec![
            ("a".to_string(), None),
            ("b".to_string(), Some(0.001)),
            ("c".to_string(), Some(0.002)),
        ]
    );
}
