//! `perfwatch-soak --db sqlite|postgres --duration 10m [--url URL --token T [--pid PID]]`
//!
//! Sustained mixed load against the real `perfwatch serve` (started here on a fresh
//! database, with a `perfwatch worker` for performance jobs; or a server already
//! running at `--url`): paced ingestion with idempotency keys and repeats, page and
//! API reads, comparisons, triage actions, and a push webhook (one job) every few
//! seconds. Samples the server's RSS, records latencies per kind, and checks at the
//! end: no 5xx (no non-2xx/3xx at all), every acknowledged run stored exactly once,
//! every job processed exactly once, RSS after warm-up flat within the limit.
//! Prints the figures as Markdown (docs/benchmarks.md, "Soak"); exits 1 on any
//! violation. Build the server next to it first:
//! `cargo build --release -p perfwatch-server -p perfwatch-tests --bin perfwatch --bin perfwatch-soak`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use clap::{Parser, ValueEnum};
use perfwatch_tests::soak::{run, SoakOptions, Target};
use perfwatch_tests::Db;

#[derive(Clone, Copy, ValueEnum)]
enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Parser)]
#[command(name = "perfwatch-soak", about = "Sustained mixed load and its checks")]
struct Args {
    /// Database of the server started here (PostgreSQL: a new database in the cluster
    /// of --postgres-url).
    #[arg(long, value_enum, default_value = "sqlite")]
    db: DbKind,
    /// A cluster the soak may create a database in.
    #[arg(long, env = "TEST_DATABASE_URL")]
    postgres_url: Option<String>,
    /// How long the load lasts: `90s`, `10m`, `1h`.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    duration: Duration,
    /// RSS samples before this are not part of the flatness check (default: a fifth
    /// of the duration, 5 s to 2 min).
    #[arg(long, value_parser = parse_duration)]
    warmup: Option<Duration>,
    /// Runs submitted per second.
    #[arg(long, default_value_t = 20.0)]
    ingest_rate: f64,
    /// Tasks of each kind (ingest, pages, API, compare, triage).
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Seconds between pushes (each one performance job); 0: no jobs.
    #[arg(long, default_value_t = 3.0)]
    job_every: f64,
    /// Largest allowed max/min RSS ratio after warm-up.
    #[arg(long, default_value_t = 1.2)]
    rss_ratio_limit: f64,
    /// A running server instead of one started here (no jobs, no database checks:
    /// acknowledged runs are checked by submitting them again).
    #[arg(long, requires = "token")]
    url: Option<String>,
    /// An API token of that server with ingest and triage rights.
    #[arg(long)]
    token: Option<String>,
    /// That server's pid, to sample its RSS.
    #[arg(long)]
    pid: Option<u32>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: a number and a unit (s, m, h)"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("`{s}`: unit must be s, m or h")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut o = SoakOptions::for_duration(a.duration);
    if let Some(w) = a.warmup {
        o.warmup = w;
    }
    o.ingest_rate = a.ingest_rate;
    o.concurrency = a.concurrency.max(1);
    o.job_every = (a.job_every > 0.0).then(|| Duration::from_secs_f64(a.job_every));
    o.rss_ratio_limit = a.rss_ratio_limit;
    let target = match a.url {
        Some(base) => Target::Existing {
            base: base.trim_end_matches('/').to_string(),
            token: a.token.unwrap_or_default(),
            pid: a.pid,
        },
        None => {
            let db = match a.db {
                DbKind::Sqlite => Db::Sqlite,
                DbKind::Postgres => {
                    let url = a
                        .postgres_url
                        .ok_or_else(|| anyhow::anyhow!("--db postgres needs --postgres-url"))?;
                    // fresh_database reads the cluster from this variable.
                    std::env::set_var("TEST_DATABASE_URL", url);
                    Db::Postgres
                }
            };
            Target::Fresh(db)
        }
    };
    let report = run(target, o).await?;
    println!("{report}");
    if !report.ok() {
        std::process::exit(1);
    }
    Ok(())
}
