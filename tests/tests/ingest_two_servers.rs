//! Two `perfwatch serve` processes on one database, ingesting into the same series at
//! once: every run is submitted to both servers at the same moment (a client retrying
//! on another server behind a load balancer), and new series appear in runs that
//! reach the two servers together.
//!
//! What must hold (each process has its own id cache and its own writer queue, so
//! nothing in memory coordinates them; only the database does):
//! - every run is stored exactly once: of its two submissions one answers 201, the
//!   other 200 "duplicate" with the same run id;
//! - no series exists twice, and every series has exactly the points of its runs;
//! - commits take the orders 1..=N on the branch, each once, and every measurement
//!   carries its commit's order;
//! - the samples read back are the numbers sent, bit for bit.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use perfwatch_backend::testing::fresh_database;
use perfwatch_backend::Store;
use perfwatch_tests::procs::{build_server, perfwatch_bin, ServerProc};
use perfwatch_tests::{sha, Db};
use serde_json::{json, Value};

const RUNS: usize = 40;
const CLIENTS: usize = 4;
const SHARED: usize = 20;
/// Each new series appears in this many consecutive runs (sent concurrently).
const RUNS_PER_NEW_SERIES: usize = 4;

/// Samples that do not survive a careless decimal round trip.
fn samples(run: usize, series: usize) -> Vec<f64> {
    let x = (run * 31 + series) as f64;
    vec![
        0.1 + 0.2 + x,
        1e-300 * (x + 1.0),
        123_456_789.123_456_79 + x,
        2.0 / 3.0,
    ]
}

fn run_body(i: usize) -> Value {
    let mut results: Vec<Value> = (0..SHARED)
        .map(|s| json!({"benchmark": format!("Shared{s:02}"), "measure": "time", "unit": "ns", "samples": samples(i, s)}))
        .collect();
    results.push(json!({"benchmark": format!("New{:02}", i / RUNS_PER_NEW_SERIES), "measure": "time", "unit": "ns", "samples": samples(i, 99)}));
    json!({
        "project": "two",
        "branch": "main",
        "commit": {"sha": sha(i as u64 + 1)},
        "testbed": "box",
        "run_key": format!("run-{i}"),
        "results": results,
    })
}

struct Cluster {
    servers: Vec<ServerProc>,
    token: String,
    store: Store,
    http: reqwest::Client,
    tmp: PathBuf,
    file: Option<PathBuf>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.servers.clear();
        let _ = std::fs::remove_dir_all(&self.tmp);
        if let Some(f) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
    }
}

async fn two_servers(db: Db) -> Cluster {
    build_server();
    let bin = perfwatch_bin().expect("the perfwatch binary");
    let (url, file) = fresh_database(db).await;
    let store = Store::connect(&url).await.expect("open the database");
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "test", None)
        .await
        .expect("a token");
    let tmp = std::env::temp_dir().join(format!("pw-two-{}-{db:?}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("a temp folder");
    let key = tmp.join("secret.key");
    let data = tmp.join("data");
    let args = [
        "--workers",
        "0",
        "--secret-key-file",
        key.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let mut servers = Vec::new();
    for _ in 0..2 {
        servers.push(
            ServerProc::start(&bin, &url, &args)
                .await
                .expect("the server starts"),
        );
    }
    Cluster {
        servers,
        token,
        store,
        http: reqwest::Client::new(),
        tmp,
        file,
    }
}

impl Cluster {
    async fn post(&self, server: usize, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/runs", self.servers[server].base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("the server answers");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/api/v1{path}", self.servers[1].base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.expect("JSON")
    }
}

async fn every_run_once_with_two_servers(db: Db) {
    let c = std::sync::Arc::new(two_servers(db).await);
    let r = c
        .http
        .post(format!("{}/api/v1/projects", c.servers[0].base))
        .bearer_auth(&c.token)
        .json(&json!({"slug": "two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "project created");

    // Each client sends its runs one after another, each run to both servers at once.
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut receipts = Vec::new();
            for i in (client..RUNS).step_by(CLIENTS) {
                let body = run_body(i);
                let (a, b) = tokio::join!(c.post(0, &body), c.post(1, &body));
                receipts.push((i, a, b));
            }
            receipts
        }));
    }
    let mut run_ids: BTreeMap<usize, i64> = BTreeMap::new();
    for t in tasks {
        for (i, (sa, ra), (sb, rb)) in t.await.expect("client task") {
            let mut statuses = [sa, sb];
            statuses.sort();
            assert_eq!(
                statuses,
                [200, 201],
                "run {i}: one submission stored, the other a duplicate ({ra} / {rb})"
            );
            assert_eq!(
                ra["run_id"], rb["run_id"],
                "run {i}: both answers name one run"
            );
            let duplicate = if sa == 200 { &ra } else { &rb };
            assert_eq!(duplicate["duplicate"], true);
            run_ids.insert(i, ra["run_id"].as_i64().expect("a run id"));
        }
    }
    let distinct: BTreeSet<i64> = run_ids.values().copied().collect();
    assert_eq!(distinct.len(), RUNS, "every run has its own id");

    let new_series = RUNS.div_ceil(RUNS_PER_NEW_SERIES);
    let counts: BTreeMap<String, i64> = c.store.row_counts().await.unwrap().into_iter().collect();
    let expect = |t: &str| counts.get(t).copied().unwrap_or(-1);
    assert_eq!(expect("runs"), RUNS as i64, "{counts:?}");
    assert_eq!(expect("commits"), RUNS as i64, "{counts:?}");
    assert_eq!(expect("branch_commits"), RUNS as i64, "{counts:?}");
    assert_eq!(expect("measurements"), (RUNS * (SHARED + 1)) as i64);
    assert_eq!(expect("measurement_samples"), (RUNS * (SHARED + 1)) as i64);
    assert_eq!(expect("series"), (SHARED + new_series) as i64);
    assert_eq!(
        (expect("testbeds"), expect("measures"), expect("branches")),
        (1, 1, 1)
    );

    // No series twice (by its natural key), as the API lists them.
    let series = c.get("/projects/two/series").await;
    let series = series.as_array().expect("a list");
    let keys: BTreeSet<String> = series
        .iter()
        .map(|s| {
            format!(
                "{}|{}|{}|{}",
                s["benchmark"], s["measure"], s["testbed"], s["params"]
            )
        })
        .collect();
    assert_eq!(series.len(), SHARED + new_series);
    assert_eq!(
        keys.len(),
        series.len(),
        "a series listed twice: {series:?}"
    );

    // Orders 1..=RUNS, one per commit, the same in every series.
    let mut ord_of_sha: BTreeMap<String, i64> = BTreeMap::new();
    for s in series {
        let id = s["id"].as_i64().unwrap();
        let points = c.get(&format!("/series/{id}/points")).await;
        let points = points.as_array().unwrap();
        let expected = if s["benchmark"].as_str().unwrap().starts_with("Shared") {
            RUNS
        } else {
            RUNS_PER_NEW_SERIES
        };
        assert_eq!(points.len(), expected, "points of {}", s["benchmark"]);
        for p in points {
            let sha = p["sha"].as_str().unwrap().to_string();
            let ord = p["ord"].as_i64().expect("an order");
            assert_eq!(*ord_of_sha.entry(sha.clone()).or_insert(ord), ord, "{sha}");
            assert!(distinct.contains(&p["run_id"].as_i64().unwrap()));
        }
    }
    let ords: BTreeSet<i64> = ord_of_sha.values().copied().collect();
    assert_eq!(ords, (1..=RUNS as i64).collect::<BTreeSet<_>>());

    // The samples come back as sent.
    for i in [0, RUNS / 2, RUNS - 1] {
        let run = c.get(&format!("/runs/{}", run_ids[&i])).await;
        assert_eq!(run["commit"]["sha"], sha(i as u64 + 1));
        for m in run["measurements"].as_array().unwrap() {
            let bench = m["series"]["benchmark"].as_str().unwrap();
            let s = match bench.strip_prefix("Shared") {
                Some(n) => n.parse().unwrap(),
                None => 99,
            };
            let got: Vec<f64> = serde_json::from_value(m["samples"].clone()).unwrap();
            assert_eq!(got, samples(i, s), "run {i} {bench}");
        }
    }
}

#[tokio::test]
async fn two_servers_store_every_run_once_sqlite() {
    every_run_once_with_two_servers(Db::Sqlite).await;
}

#[tokio::test]
async fn two_servers_store_every_run_once_postgres() {
    every_run_once_with_two_servers(Db::Postgres).await;
}
