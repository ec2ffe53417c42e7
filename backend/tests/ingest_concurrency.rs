//! Concurrent submissions: on SQLite they are written together (group commit, one
//! savepoint per run), on PostgreSQL each in its own transaction. Either way each run
//! is all-or-nothing and answered on its own: a bad run among good ones fails alone,
//! a repeated run key is stored once, and nothing else is lost.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::error::StoreError;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::validate::{parse_run_json, validate_run, ValidRun};
use serde_json::json;

perfwatch_backend::on_both!(concurrent_runs_succeed_or_fail_alone);

fn run(project: &str, i: usize, key: &str) -> ValidRun {
    let results: Vec<_> = (0..20)
        .map(|s| json!({"benchmark": format!("Bench{s}"), "measure": "time", "unit": "ns", "samples": [100.0 + (i + s) as f64, 101.0]}))
        .collect();
    let body = json!({
        "project": project,
        "commit": {"sha": format!("{i:040x}")},
        "testbed": format!("box-{}", i % 3),
        "run_key": key,
        "results": results,
    });
    validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap()
}

async fn concurrent_runs_succeed_or_fail_alone(store: Store) {
    store
        .create_project(&NewProject {
            slug: "conc".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    // 60 submissions at once: 40 good runs, 10 repeats of good run keys, 10 to a
    // project that does not exist.
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        let r = match i {
            0..40 => run("conc", i, &format!("key-{i}")),
            40..50 => run("conc", i - 40, &format!("key-{}", i - 40)),
            _ => run("nope", i, &format!("key-{i}")),
        };
        tasks.push(tokio::spawn(async move {
            store.store_run(&r, &IngestOptions::default()).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let mut stored = std::collections::HashMap::new();
    for (i, a) in answers.iter().enumerate() {
        match i {
            0..50 => {
                let a = a.as_ref().unwrap_or_else(|e| panic!("run {i}: {e}"));
                let key = if i < 40 { i } else { i - 40 };
                // One of each pair stored it, the other was told it is a duplicate
                // of that same run.
                let prev = stored.insert((key, a.duplicate), a.run_id);
                assert!(prev.is_none(), "run key {key} answered twice the same way");
                if !a.duplicate {
                    assert_eq!(a.series_ids.len(), 20);
                }
            }
            _ => assert!(
                matches!(a, Err(StoreError::Invalid(_))),
                "run {i} to an unknown project: {a:?}"
            ),
        }
    }
    for key in 0..10 {
        assert_eq!(
            stored.get(&(key, false)),
            stored.get(&(key, true)),
            "key {key}"
        );
    }
    let counts: std::collections::HashMap<String, i64> =
        store.row_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts["runs"], 40);
    assert_eq!(counts["measurements"], 40 * 20);
    assert_eq!(counts["measurement_samples"], 40 * 20);
    assert_eq!(counts["series"], 3 * 20);
    assert_eq!(counts["testbeds"], 3);
    assert_eq!(counts["commits"], 40);
    // Every commit took its own order on main: 1..=40, no gaps, no repeats.
    let mut ords: Vec<i64> = perfwatch_backend::testing::rows::branch_orders(&store)
        .await
        .unwrap();
    ords.sort_unstable();
    assert_eq!(ords, (1..=40).collect::<Vec<i64>>());
}

/// A write transaction dropped half-way (an error returned mid-transaction) rolls back
/// at once: another process can take SQLite's write lock right away, and nothing of
/// the transaction is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_sqlite_write_releases_the_lock_at_once() {
    use sqlx::{Connection, Executor};
    let (url, _file) =
        perfwatch_backend::testing::fresh_database(perfwatch_backend::testing::Db::Sqlite).await;
    let store = Store::connect(&url).await.unwrap();
    {
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("INSERT INTO projects (slug, name, main_branch, created_at) VALUES ('half', 'half', 'main', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        // Dropped without commit.
    }
    // Another process: a separate connection that waits at most 2 s for the lock.
    let mut other = sqlx::AnyConnection::connect(&url).await.unwrap();
    other.execute("PRAGMA busy_timeout = 2000").await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    other.execute("ROLLBACK").await.unwrap();
    let n: i64 = perfwatch_backend::testing::rows::projects_named(&store, "half")
        .await
        .unwrap();
    assert_eq!(n, 0);
    // The store's own next write works too.
    store
        .create_project(&NewProject {
            slug: "after".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
}
