//! Runs written together (SQLite's group commit) and alone (PostgreSQL): a run key
//! repeated inside one batch or in a later one is stored once and every repeat is
//! answered with that run's id; runs at one commit share the commit's order on the
//! branch, and every commit takes the next order once.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::{BTreeMap, HashMap};

use perfwatch_backend::store::{IngestOptions, NewProject, PointFilter, StoredRun};
use perfwatch_backend::Store;
use perfwatch_core::validate::{parse_run_json, validate_run, ValidRun};
use serde_json::json;

perfwatch_backend::on_both!(
    repeated_keys_are_stored_once_in_and_across_batches,
    runs_at_one_commit_share_its_order
);

/// Series per run: a batch of a dozen runs has more rows than one multi-row insert
/// takes (256), so rows of several inserts are checked.
const SERIES: usize = 40;

fn samples(sha: usize, testbed: &str, s: usize) -> Vec<f64> {
    let t = testbed.bytes().map(f64::from).sum::<f64>();
    vec![
        100.0 + (sha * 7 + s) as f64 + t / 1000.0,
        101.5 + s as f64,
        99.25,
    ]
}

fn run(sha: usize, testbed: &str, key: Option<String>, message: Option<&str>) -> ValidRun {
    let results: Vec<_> = (0..SERIES)
        .map(|s| json!({"benchmark": format!("Bench{s:02}"), "measure": "time", "unit": "ns", "samples": samples(sha, testbed, s)}))
        .collect();
    let mut body = json!({
        "project": "batches",
        "commit": {"sha": format!("{sha:040x}")},
        "testbed": testbed,
        "results": results,
    });
    if let Some(key) = key {
        body["run_key"] = json!(key);
    }
    if let Some(m) = message {
        body["commit"]["message"] = json!(m);
    }
    validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap()
}

async fn project(store: &Store) {
    store
        .create_project(&NewProject {
            slug: "batches".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
}

/// Stores all `runs` at once (concurrent submissions, so SQLite writes them in shared
/// batches); answers in submission order.
async fn store_all(store: &Store, runs: Vec<ValidRun>) -> Vec<StoredRun> {
    let tasks: Vec<_> = runs
        .into_iter()
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move { store.store_run(&r, &IngestOptions::default()).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap().unwrap());
    }
    out
}

async fn repeated_keys_are_stored_once_in_and_across_batches(store: Store) {
    project(&store).await;
    const KEYS: usize = 24;
    // Every key twice, side by side: the two submissions usually share a batch.
    let runs = (0..KEYS * 2)
        .map(|i| run(i / 2, "box", Some(format!("key-{}", i / 2)), None))
        .collect();
    let answers = store_all(&store, runs).await;
    let mut ids: HashMap<usize, i64> = HashMap::new();
    for (k, pair) in answers.chunks(2).enumerate() {
        let stored: Vec<_> = pair.iter().filter(|a| !a.duplicate).collect();
        assert_eq!(stored.len(), 1, "key {k}: {pair:?}");
        assert_eq!(pair[0].run_id, pair[1].run_id, "key {k}: both name one run");
        assert_eq!(stored[0].series_ids.len(), SERIES);
        ids.insert(k, stored[0].run_id);
    }
    let distinct: std::collections::HashSet<i64> = ids.values().copied().collect();
    assert_eq!(distinct.len(), KEYS, "every key its own run");
    // The same keys again, in later batches: all duplicates of the stored runs.
    let runs = (0..KEYS)
        .map(|k| run(k, "box", Some(format!("key-{k}")), None))
        .collect();
    for (k, a) in store_all(&store, runs).await.iter().enumerate() {
        assert!(a.duplicate, "key {k} was stored again");
        assert_eq!(a.run_id, ids[&k], "key {k}");
    }
    let counts: HashMap<String, i64> = store.row_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts["runs"], KEYS as i64);
    assert_eq!(counts["measurements"], (KEYS * SERIES) as i64);
    assert_eq!(counts["measurement_samples"], (KEYS * SERIES) as i64);
    assert_eq!(counts["commits"], KEYS as i64);
    let keys = perfwatch_backend::testing::rows::run_keys(&store, "batches")
        .await
        .unwrap();
    for k in 0..KEYS {
        assert_eq!(keys[&format!("key-{k}")], (1, ids[&k]), "key {k}");
    }
}

async fn runs_at_one_commit_share_its_order(store: Store) {
    project(&store).await;
    const COMMITS: usize = 12;
    // Three runs per commit (one per testbed), all at once; only the last names the
    // commit's message.
    let runs = (0..COMMITS * 3)
        .map(|i| {
            let testbed = ["a", "b", "c"][i % 3];
            let message = (i % 3 == 2).then_some("the message");
            run(i / 3, testbed, None, message)
        })
        .collect();
    let answers = store_all(&store, runs).await;
    assert!(answers.iter().all(|a| !a.duplicate && a.on_main_branch));
    let mut orders = perfwatch_backend::testing::rows::branch_orders(&store)
        .await
        .unwrap();
    orders.sort_unstable();
    assert_eq!(orders, (1..=COMMITS as i64).collect::<Vec<_>>());
    // Every point of every series carries its commit's one order.
    let mut order_of: BTreeMap<String, i64> = BTreeMap::new();
    let series: std::collections::BTreeSet<i64> = answers
        .iter()
        .flat_map(|a| a.series_ids.iter().copied())
        .collect();
    assert_eq!(series.len(), 3 * SERIES);
    for sid in series {
        let points = store.points(sid, &PointFilter::default()).await.unwrap();
        assert_eq!(points.len(), COMMITS, "series {sid}");
        for p in points {
            let sha = p.sha.clone().unwrap();
            let ord = p.ord.unwrap();
            assert_eq!(*order_of.entry(sha.clone()).or_insert(ord), ord, "{sha}");
        }
    }
    assert_eq!(order_of.len(), COMMITS);
    // Every run reads back its own samples, and its commit the message a later run
    // of that commit brought.
    for (i, a) in answers.iter().enumerate() {
        let detail = store.run_detail(a.run_id).await.unwrap();
        let testbed = ["a", "b", "c"][i % 3];
        assert_eq!(detail.testbed, testbed);
        let commit = detail.commit.unwrap();
        assert_eq!(commit.sha, format!("{:040x}", i / 3));
        assert_eq!(commit.message.as_deref(), Some("the message"), "run {i}");
        assert_eq!(detail.measurements.len(), SERIES);
        for (s, m) in detail.measurements.iter().enumerate() {
            assert_eq!(m.series.benchmark, format!("Bench{s:02}"));
            assert_eq!(m.samples, samples(i / 3, testbed, s), "run {i} series {s}");
        }
    }
    let counts: HashMap<String, i64> = store.row_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts["commits"], COMMITS as i64);
    assert_eq!(counts["runs"], (COMMITS * 3) as i64);
}
