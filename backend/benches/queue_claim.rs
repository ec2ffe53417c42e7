//! Claim throughput of the work queue: jobs claimed and completed per second with 1 and
//! 4 concurrent claimers (each with its own connections, as separate processes would
//! have), on SQLite and — when `TEST_DATABASE_URL` names a PostgreSQL server — on
//! PostgreSQL. Median of 3 rounds of 2,000 jobs each.
//!
//! `TEST_DATABASE_URL=postgres://… cargo bench -p perfwatch-backend --bench queue_claim`
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use perfwatch_backend::queue::{NewJob, Queue};
use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;

const JOBS: usize = 2_000;

async fn round(db: Db, claimers: usize) -> f64 {
    let (url, file) = fresh_database(db).await;
    let store = Store::connect(&url).await.expect("open");
    let now = perfwatch_backend::time::now_ms();
    for _ in 0..JOBS {
        let job = NewJob {
            kind: "bench".into(),
            payload: "{}".into(),
            priority: 0,
            not_before: now,
            max_attempts: 3,
            backoff_ms: 0,
            coalesce_key: None,
        };
        store.queue_insert(&job, now).await.expect("insert");
    }
    let mut queues = vec![];
    for i in 0..claimers {
        let s = Store::connect(&url).await.expect("open");
        queues.push(Queue::new(s, format!("bench{i}"), Duration::from_secs(30)));
    }
    let start = Instant::now();
    let tasks: Vec<_> = queues
        .into_iter()
        .map(|q| {
            tokio::spawn(async move {
                while let Some(l) = q.claim(&["bench"]).await.expect("claim") {
                    q.complete(&l).await.expect("complete");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("claimer");
    }
    let rate = JOBS as f64 / start.elapsed().as_secs_f64();
    if let Some(f) = file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
    }
    rate
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut dbs = vec![("SQLite", Db::Sqlite)];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        dbs.push(("PostgreSQL", Db::Postgres));
    }
    println!("| database | claimers | jobs/s (median of 3, claim + complete) |");
    println!("|---|---|---|");
    for (name, db) in dbs {
        for claimers in [1, 4] {
            let mut rates: Vec<f64> = (0..3).map(|_| rt.block_on(round(db, claimers))).collect();
            rates.sort_by(f64::total_cmp);
            println!("| {name} | {claimers} | {:.0} |", rates[1]);
        }
    }
}
