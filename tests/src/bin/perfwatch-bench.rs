//! `cargo run --release -p perfwatch-tests --bin perfwatch-bench [-- --clients 1,4,8,16] [--postgres URL]`
//!
//! Measures, against the real server on 127.0.0.1:
//! 1. ingestion of 1,000 runs × 100 series through `POST /api/v1/runs` from 1, 4, 8 and
//!    16 concurrent clients (a fresh server each), in points per second, into SQLite
//!    and, with `--postgres`, PostgreSQL;
//! 2. server time of a series page (`GET /series/{id}`, full SSR HTML) with 100,000
//!    points, median of 15 requests.
//!
//! Prints medians; docs/benchmarks.md records the figures with this command.

use std::time::{Duration, Instant};

use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use serde_json::json;

const RUNS: usize = 1_000;
const SERIES: usize = 100;
const SAMPLES: usize = 5;
const PAGE_POINTS: i64 = 100_000;

fn run_body(i: usize) -> String {
    let results: Vec<_> = (0..SERIES)
        .map(|s| {
            let base = 1000.0 + s as f64 * 10.0;
            let samples: Vec<f64> = (0..SAMPLES).map(|k| base + ((i * 7 + k * 13 + s) % 17) as f64).collect();
            json!({"benchmark": format!("Benchmark{s:03}"), "measure": "time", "unit": "ns/op", "samples": samples})
        })
        .collect();
    json!({
        "project": "bench",
        "commit": {"sha": format!("{:040x}", i + 1)},
        "testbed": "bench-box",
        "run_key": format!("bench-{i}"),
        "results": results,
    })
    .to_string()
}

async fn ingest(app: &TestApp, clients: usize) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    client
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"slug": "bench"}))
        .send()
        .await?
        .error_for_status()?;
    let bodies: Vec<String> = (0..RUNS).map(run_body).collect();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let mine: Vec<String> = bodies.iter().skip(c).step_by(clients).cloned().collect();
        let client = client.clone();
        let url = format!("{}/api/v1/runs", app.base);
        let token = app.token.clone();
        tasks.push(tokio::spawn(async move {
            for b in mine {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(b)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "ingest failed: {}", r.text().await?);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let points = (RUNS * SERIES) as f64;
    println!(
        "  ingested {RUNS} runs × {SERIES} series ({SAMPLES} samples each) from {clients} clients in {secs:.2} s: {:.0} points/s, {:.0} samples/s",
        points / secs,
        points * SAMPLES as f64 / secs
    );
    Ok(points / secs)
}

/// Loads a 100k-point series directly (the page, not ingestion, is measured here).
async fn load_long_series(app: &TestApp) -> anyhow::Result<i64> {
    Ok(perfwatch_backend::testing::rows::load_long_series(&app.store, PAGE_POINTS).await?)
}

async fn page_time(app: &TestApp, sid: i64) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("{}/series/{sid}", app.base);
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..15 {
        let start = Instant::now();
        let r = client.get(&url).send().await?;
        anyhow::ensure!(r.status() == 200, "page failed");
        let body = r.text().await?;
        times.push(start.elapsed());
        bytes = body.len();
        anyhow::ensure!(
            body.contains("100000 points shown") || body.contains("of 100000 points"),
            "page does not show the long series"
        );
    }
    times.sort();
    let med = times[times.len() / 2];
    println!(
        "  series page with {PAGE_POINTS} points: median {:.1} ms (min {:.1}, max {:.1}), {} KB HTML",
        ms(med),
        ms(times[0]),
        ms(times[times.len() - 1]),
        bytes / 1024
    );
    Ok(())
}

/// `($1, …), ($n+1, …)` for `rows` rows of `cols` placeholders (`?` on SQLite, where
/// numbered ones bind in quadratic time; see `values_rows` in the backend).
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Ingestion from each number of concurrent clients (a fresh server and database each
/// time), then the page of a 100k-point series.
async fn bench(db: Db, clients: &[usize]) -> anyhow::Result<()> {
    println!("{db:?}:");
    let mut app = None;
    for &c in clients {
        // The server default: detection in the background worker.
        let fresh = spawn_app_with(db, |c| c.detect_inline = false).await;
        ingest(&fresh, c).await?;
        app = Some(fresh);
    }
    let app = app.expect("at least one client count");
    let sid = load_long_series(&app).await?;
    println!("  loaded a {PAGE_POINTS}-point series; requesting its page");
    page_time(&app, sid).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let clients: Vec<usize> = match args.iter().position(|a| a == "--clients") {
        Some(i) => args
            .get(i + 1)
            .map(|list| list.split(',').filter_map(|n| n.parse().ok()).collect())
            .filter(|l: &Vec<usize>| !l.is_empty())
            .expect("--clients N[,N…]"),
        None => vec![1, 4, 8, 16],
    };
    bench(Db::Sqlite, &clients).await?;
    if let Some(i) = args.iter().position(|a| a == "--postgres") {
        let url = args.get(i + 1).expect("--postgres URL");
        std::env::set_var("TEST_DATABASE_URL", url);
        bench(Db::Postgres, &clients).await?;
    }
    Ok(())
}
