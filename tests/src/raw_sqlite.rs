//! The raw SQLite anchor of the ingestion benchmark: what the storage itself can do with
//! one transaction per run, measured in the same process and minute as perfwatch, so
//! the bench prints a ratio instead of a figure that drifts with the machine's load.
//!
//! It uses rusqlite on the very `libsqlite3-sys` build sqlx links (cargo allows one
//! crate with `links = "sqlite3"` per build, so the SQLite code is the same), perfwatch's
//! pragmas (`backend/src/store/mod.rs`), one connection, one prepared statement,
//! and a table indexed the way a chart reads it (by series, then run). Each point
//! carries what a perfwatch measurement row carries: the summary and the samples.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

/// The samples of series `s` in run `i`: the same numbers the bench posts to perfwatch.
pub fn bench_samples(i: usize, s: usize, samples: usize) -> Vec<f64> {
    let base = 1000.0 + s as f64 * 10.0;
    (0..samples)
        .map(|k| base + ((i * 7 + k * 13 + s) % 17) as f64)
        .collect()
}

/// The pragmas perfwatch sets on every SQLite connection.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 10000;
    PRAGMA synchronous = NORMAL;
    PRAGMA cache_size = -32768;
    PRAGMA wal_autocheckpoint = 10000;";

/// What the anchor measured.
#[derive(Debug, Clone, Copy)]
pub struct Anchor {
    pub points_per_sec: f64,
    /// CPU time (user + system) of the writing thread per run: the load-independent
    /// figure beside the rate.
    pub cpu_per_run: Duration,
}

/// Writes `runs` runs of `series` points (`samples` samples each) into a fresh file at
/// `path`, one transaction per run, on the calling thread.
pub fn write_runs(
    path: &Path,
    runs: usize,
    series: usize,
    samples: usize,
) -> anyhow::Result<Anchor> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = Connection::open(path)?;
    conn.execute_batch(PRAGMAS)?;
    conn.execute_batch(
        "CREATE TABLE points (
             series_id INTEGER NOT NULL, run_id INTEGER NOT NULL, started_at INTEGER NOT NULL,
             n INTEGER NOT NULL, mean REAL NOT NULL, median REAL NOT NULL, min REAL NOT NULL,
             max REAL NOT NULL, stddev REAL NOT NULL, samples TEXT NOT NULL);
         CREATE UNIQUE INDEX points_series_run ON points (series_id, run_id);",
    )?;
    // The values are prepared before the clock starts: only the database is timed.
    let rows: Vec<Vec<Row>> = (0..runs)
        .map(|i| (0..series).map(|s| Row::new(i, s, samples)).collect())
        .collect();
    let mut insert = conn.prepare(
        "INSERT INTO points (series_id, run_id, started_at, n, mean, median, min, max, stddev,
                             samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?;
    let cpu_start = crate::bench_cpu::thread_cpu()?;
    let start = Instant::now();
    for (i, run) in rows.iter().enumerate() {
        conn.execute_batch("BEGIN")?;
        for (s, r) in run.iter().enumerate() {
            insert.execute(params![
                s as i64,
                i as i64,
                1_700_000_000_000i64 + i as i64,
                r.n,
                r.mean,
                r.median,
                r.min,
                r.max,
                r.stddev,
                r.samples
            ])?;
        }
        conn.execute_batch("COMMIT")?;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = crate::bench_cpu::thread_cpu()? - cpu_start;
    drop(insert);
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(Anchor {
        points_per_sec: (runs * series) as f64 / secs,
        cpu_per_run: cpu / runs as u32,
    })
}

struct Row {
    n: i64,
    mean: f64,
    median: f64,
    min: f64,
    max: f64,
    stddev: f64,
    samples: String,
}

impl Row {
    fn new(i: usize, s: usize, samples: usize) -> Self {
        let mut v = bench_samples(i, s, samples);
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
        let samples = serde_json::to_string(&v).expect("numbers serialise");
        v.sort_by(f64::total_cmp);
        Self {
            n: v.len() as i64,
            mean,
            median: v[v.len() / 2],
            min: v[0],
            max: v[v.len() - 1],
            stddev: var.sqrt(),
            samples,
        }
    }
}
