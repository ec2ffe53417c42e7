//! `cargo run --release -p perfwatch-tests --bin perfwatch-bench [-- --clients 4,8] [--postgres URL] [--servers 1,2] [--no-page]`
//!
//! Measures, against the real `perfwatch serve` processes on 127.0.0.1 (the release
//! binary beside this one; build both: `cargo build --release -p perfwatch-server
//! -p perfwatch-tests --bin perfwatch --bin perfwatch-bench`):
//! 1. ingestion of 1,000 runs × 100 series through `POST /api/v1/runs` from 1, 4, 8 and
//!    16 concurrent clients (a fresh database each), in points per second, into SQLite
//!    and, with `--postgres`, PostgreSQL; with `--servers 1,2` PostgreSQL is measured
//!    with one and with two servers sharing the database (clients split between them);
//! 2. beside each SQLite figure, in the same minute, the raw anchor: the same points
//!    written by a plain Rust loop on the same SQLite build and pragmas, one transaction
//!    per run (`perfwatch_tests::raw_sqlite`), and the ratio perfwatch/raw;
//! 3. server time of a series page (`GET /series/{id}`, full SSR HTML) with 100,000
//!    points, median of 15 requests (skipped with `--no-page`).
//!
//! docs/benchmarks.md records the figures with this command.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use perfwatch_backend::followup::FollowUps;
use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::testing::fresh_database;
use perfwatch_backend::Store;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use perfwatch_tests::procs::{perfwatch_bin, ServerProc};
use perfwatch_tests::{bench_cpu, raw_sqlite};
use serde_json::json;

const RUNS: usize = 1_000;
const SERIES: usize = 100;
const SAMPLES: usize = 5;
const PAGE_POINTS: i64 = 100_000;

fn run_body(i: usize) -> String {
    let results: Vec<_> = (0..SERIES)
        .map(|s| {
            let samples = raw_sqlite::bench_samples(i, s, SAMPLES);
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

/// What one ingestion round measured.
struct Rate {
    points_per_sec: f64,
    /// CPU time (user + system) of all the server processes over the posting window,
    /// per stored run: barely moved by other load on the machine, unlike the rate.
    server_cpu_per_run: Duration,
}

/// Posts the bench's runs from `clients` concurrent clients, client `c` to server
/// `c % servers.len()`.
async fn ingest(servers: &Servers, clients: usize) -> anyhow::Result<Rate> {
    let bases = servers.bases();
    let token = servers.token.as_str();
    let server_cpu = || -> anyhow::Result<Duration> {
        servers
            .procs
            .iter()
            .map(|p| bench_cpu::process_cpu(p.pid))
            .sum()
    };
    let client = reqwest::Client::new();
    client
        .post(format!("{}/api/v1/projects", bases[0]))
        .bearer_auth(token)
        .json(&json!({"slug": "bench"}))
        .send()
        .await?
        .error_for_status()?;
    let bodies: Vec<String> = (0..RUNS).map(run_body).collect();
    let cpu_start = server_cpu()?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let mine: Vec<String> = bodies.iter().skip(c).step_by(clients).cloned().collect();
        let client = client.clone();
        let url = format!("{}/api/v1/runs", bases[c % bases.len()]);
        let token = token.to_string();
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
    let cpu_per_run = (server_cpu()? - cpu_start) / RUNS as u32;
    let points = (RUNS * SERIES) as f64;
    // Detection is queued, not inline: the work it defers is counted here, so a
    // faster posting window cannot hide work moved to later.
    let (caught_up, passes) = detection_drain(&servers.url).await?;
    let cpu_with_detection = (server_cpu()? - cpu_start) / RUNS as u32;
    println!(
        "  ingested {RUNS} runs × {SERIES} series ({SAMPLES} samples each) from {clients} clients into {} server(s) in {secs:.2} s: {:.0} points/s, {:.0} samples/s, server CPU {:.2} ms per run",
        bases.len(),
        points / secs,
        points * SAMPLES as f64 / secs,
        ms(cpu_per_run)
    );
    println!(
        "  detection caught up {:.2} s after the last run ({passes} passes in all); server CPU with detection {:.2} ms per run",
        caught_up.as_secs_f64(),
        ms(cpu_with_detection)
    );
    Ok(Rate {
        points_per_sec: points / secs,
        server_cpu_per_run: cpu_per_run,
    })
}

/// Waits until no detection or comparison job is queued or running; how long that
/// took and how many detection passes ran since the database was made.
async fn detection_drain(url: &str) -> anyhow::Result<(Duration, usize)> {
    let store = Store::connect(url).await?;
    let start = Instant::now();
    let idle = FollowUps::new(store.clone())
        .idle(Duration::from_secs(120))
        .await;
    let took = start.elapsed();
    anyhow::ensure!(idle, "detection still busy after 120 s");
    let passes = store
        .queue_jobs(JobState::Done, 100_000)
        .await?
        .iter()
        .filter(|j| j.kind == kinds::DETECT)
        .count();
    store.close().await;
    Ok((took, passes))
}

/// `perfwatch serve` processes on one fresh database; dropping it kills them and
/// removes a SQLite file.
struct Servers {
    procs: Vec<ServerProc>,
    url: String,
    token: String,
    file: Option<std::path::PathBuf>,
    /// The servers' secret key and data folder (never the working directory).
    tmp: std::path::PathBuf,
}

impl Servers {
    /// `n` servers (background detection on, as by default) and a global token.
    async fn start(db: Db, n: usize) -> anyhow::Result<Self> {
        let (url, file) = fresh_database(db).await;
        let store = Store::connect(&url).await?;
        let (_, token) = perfwatch_backend::tokens::create_token(&store, "bench", None).await?;
        store.close().await;
        let bin = perfwatch_bin()?;
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let k = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = std::env::temp_dir().join(format!("pw-bench-{}-{k}", std::process::id()));
        std::fs::create_dir_all(&tmp)?;
        let key = tmp.join("secret.key");
        let data = tmp.join("data");
        let args = [
            "--workers",
            "0",
            "--secret-key-file",
            key.to_str().expect("a UTF-8 temp path"),
            "--data-dir",
            data.to_str().expect("a UTF-8 temp path"),
        ];
        let mut procs = Vec::new();
        for _ in 0..n {
            procs.push(ServerProc::start(&bin, &url, &args).await?);
        }
        Ok(Self {
            procs,
            url,
            token,
            file,
            tmp,
        })
    }

    fn bases(&self) -> Vec<String> {
        self.procs.iter().map(|p| p.base.clone()).collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.procs.clear();
        let _ = std::fs::remove_dir_all(&self.tmp);
        if let Some(f) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
    }
}

/// The raw anchor beside perfwatch at each client count (SQLite), in the same minute.
async fn ingest_sqlite(clients: &[usize]) -> anyhow::Result<()> {
    println!("Sqlite ingestion:");
    let raw_file = std::env::temp_dir().join(format!("perfwatch-raw-{}.db", std::process::id()));
    for &c in clients {
        let path = raw_file.clone();
        let raw = tokio::task::spawn_blocking(move || {
            raw_sqlite::write_runs(&path, RUNS, SERIES, SAMPLES)
        })
        .await??;
        println!(
            "  raw anchor (rusqlite, one transaction per run): {:.0} points/s, CPU {:.2} ms per run",
            raw.points_per_sec,
            ms(raw.cpu_per_run)
        );
        let servers = Servers::start(Db::Sqlite, 1).await?;
        let pw = ingest(&servers, c).await?;
        println!(
            "  RATIO sqlite clients={c}: perfwatch/raw = {:.2}; CPU per run raw/perfwatch = {:.2}",
            pw.points_per_sec / raw.points_per_sec,
            raw.cpu_per_run.as_secs_f64() / pw.server_cpu_per_run.as_secs_f64()
        );
        drop(servers);
    }
    Ok(())
}

/// PostgreSQL with one and more servers sharing the database, at each client count.
async fn ingest_postgres(clients: &[usize], servers: &[usize]) -> anyhow::Result<()> {
    println!("Postgres ingestion:");
    for &c in clients {
        let mut rates = Vec::new();
        for &s in servers {
            let servers = Servers::start(Db::Postgres, s).await?;
            rates.push((s, ingest(&servers, c).await?.points_per_sec));
            drop(servers);
        }
        if let (Some(&(1, one)), Some(&(s, more))) = (rates.first(), rates.last()) {
            if s > 1 {
                println!(
                    "  RATIO postgres clients={c}: {s} servers / 1 server = {:.2}",
                    more / one
                );
            }
        }
    }
    Ok(())
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

/// The page of a 100k-point series on a fresh in-process server.
async fn bench_page(db: Db) -> anyhow::Result<()> {
    println!("{db:?} series page:");
    let app = spawn_app_with(db, |c| c.detect_inline = false).await;
    let sid = load_long_series(&app).await?;
    println!("  loaded a {PAGE_POINTS}-point series; requesting its page");
    page_time(&app, sid).await?;
    Ok(())
}

fn list_arg(args: &[String], name: &str, default: &[usize]) -> Vec<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .map(|list| list.split(',').filter_map(|n| n.parse().ok()).collect())
            .filter(|l: &Vec<usize>| !l.is_empty())
            .unwrap_or_else(|| panic!("{name} N[,N…]")),
        None => default.to_vec(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let clients = list_arg(&args, "--clients", &[1, 4, 8, 16]);
    let servers = list_arg(&args, "--servers", &[1]);
    let page = !args.iter().any(|a| a == "--no-page");
    ingest_sqlite(&clients).await?;
    if page {
        bench_page(Db::Sqlite).await?;
    }
    if let Some(i) = args.iter().position(|a| a == "--postgres") {
        let url = args.get(i + 1).expect("--postgres URL");
        std::env::set_var("TEST_DATABASE_URL", url);
        ingest_postgres(&clients, &servers).await?;
        if page {
            bench_page(Db::Postgres).await?;
        }
    }
    Ok(())
}
