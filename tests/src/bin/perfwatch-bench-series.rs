//! `perfwatch-bench-series`: the series page at a million points and the server's
//! memory (issue 16; figures in docs/benchmarks.md, "Series page and memory").
//!
//! Per database (SQLite, and PostgreSQL with `--postgres URL`):
//! 1. loads a 1,000,000-point series straight into the database (`long_series`), starts
//!    the real `perfwatch serve` binary, and requests the page (`GET /series/{id}`, the
//!    full server-rendered HTML) and four zoom ranges 15 times each: wall medians, the
//!    server's CPU time per request and HTML size (the first request, which tiles the
//!    line, is reported on its own). CPU time is utime+stime of the server process
//!    (/proc/PID/stat) around each request, plus, on PostgreSQL, that of the database's
//!    client backends (the queries run there): unlike wall time it barely moves when
//!    other processes share the cores;
//! 2. grows the database to `--big` points (10,000,000 by default) and samples the
//!    server's RSS (procfs) while 2 clients read pages and 4 clients post runs for 30 s.
//!
//! Then the peak RSS of `perfwatch import` of 100,000 and of 1,000,000 points
//! (1,000 and 10,000 Go benchmark files of 100 results) into a SQLite server, and into
//! a PostgreSQL one with `--postgres`.
//!
//! On PostgreSQL every phase uses a database of its own (`pw_…`), dropped at the end.
//!
//! ```text
//! cargo build --release -p perfwatch-server -p perfwatch-tests --bin perfwatch --bin perfwatch-bench-series
//! target/release/perfwatch-bench-series [--postgres URL] [--big N] [--no-import] [--no-sqlite] [--no-pages]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;
use perfwatch_tests::bench_cpu::process_cpu;
use perfwatch_tests::long_series::{self, LongSeries};
use perfwatch_tests::procs::{perfwatch_bin, rss_bytes, ServerProc};
use serde_json::json;

const POINTS: i64 = 1_000_000;
const REPEAT: usize = 15;

struct Args {
    postgres: Option<String>,
    big: i64,
    import: bool,
    sqlite: bool,
    pages: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        postgres: None,
        big: 10_000_000,
        import: true,
        sqlite: true,
        pages: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => a.postgres = Some(it.next().context("--postgres URL")?),
            "--big" => a.big = it.next().context("--big N")?.parse()?,
            "--no-import" => a.import = false,
            "--no-sqlite" => a.sqlite = false,
            "--no-pages" => a.pages = false,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The 1-minute load average, to print beside wall times.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A fresh database, a token, and the real server on it.
struct Setup {
    url: String,
    token: String,
    server: ServerProc,
    _tmp: tempdir::Dir,
}

mod tempdir {
    /// A folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("pw-bench-series-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("a temp folder");
        Dir(p)
    }
}

async fn setup(db: Db, url: Option<String>, tag: &str) -> anyhow::Result<Setup> {
    let url = match url {
        Some(u) => u,
        None => fresh_database(db).await.0,
    };
    let store = Store::connect(&url).await?;
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "bench", None).await?;
    store.close().await;
    let tmp = tempdir::new(tag);
    let key = tmp.0.join("secret.key");
    let data = tmp.0.join("data");
    let server = ServerProc::start(
        &perfwatch_bin()?,
        &url,
        &[
            "--workers",
            "0",
            "--secret-key-file",
            key.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
    )
    .await?;
    Ok(Setup {
        url,
        token,
        server,
        _tmp: tmp,
    })
}

/// CPU time spent serving: the server process, and on PostgreSQL the client backends
/// of the bench's database (other than the bench's own connection), where the
/// queries' work is done.
struct CpuProbe<'a> {
    server_pid: u32,
    postgres: Option<&'a sqlx::AnyPool>,
}

impl CpuProbe<'_> {
    /// CPU used so far by each process (pid → time).
    async fn sample(&self) -> anyhow::Result<Vec<(u32, Duration)>> {
        let mut out = vec![(self.server_pid, process_cpu(self.server_pid)?)];
        if let Some(pool) = self.postgres {
            let pids: Vec<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
                 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            )
            .fetch_all(pool)
            .await?;
            for pid in pids {
                // A backend that exited meanwhile has nothing more to add.
                if let Ok(t) = process_cpu(pid as u32) {
                    out.push((pid as u32, t));
                }
            }
        }
        Ok(out)
    }

    /// CPU used between two samples (a process new in `after` counts from zero).
    fn between(before: &[(u32, Duration)], after: &[(u32, Duration)]) -> Duration {
        after
            .iter()
            .map(|(pid, t)| {
                let was = before
                    .iter()
                    .find(|(p, _)| p == pid)
                    .map_or(Duration::ZERO, |b| b.1);
                t.saturating_sub(was)
            })
            .sum()
    }
}

/// `REPEAT` requests of one page: wall median, min, max, the server's CPU per request
/// (mean over the round, as /proc counts 10 ms ticks, and median) and the HTML size.
async fn time_page(
    client: &reqwest::Client,
    cpu: &CpuProbe<'_>,
    url: &str,
    expect: &str,
) -> anyhow::Result<()> {
    let mut times = Vec::new();
    let mut cpus = Vec::new();
    let mut bytes = 0;
    for _ in 0..REPEAT {
        let before = cpu.sample().await?;
        let start = Instant::now();
        let r = client.get(url).send().await?;
        ensure!(r.status() == 200, "{url}: {}", r.status());
        let body = r.text().await?;
        times.push(start.elapsed());
        cpus.push(CpuProbe::between(&before, &cpu.sample().await?));
        bytes = body.len();
        ensure!(
            body.contains(expect),
            "{url}: the page does not say {expect:?}"
        );
    }
    times.sort();
    let cpu_mean = cpus.iter().sum::<Duration>() / REPEAT as u32;
    cpus.sort();
    println!(
        "    wall median {:6.1} ms (min {:6.1}, max {:6.1}); server CPU {:6.1} ms/request (median {:5.1}); {:4} KB HTML",
        ms(times[REPEAT / 2]),
        ms(times[0]),
        ms(times[REPEAT - 1]),
        ms(cpu_mean),
        ms(cpus[REPEAT / 2]),
        bytes / 1024
    );
    Ok(())
}

async fn pages(db: Db, url: Option<String>, big: i64) -> anyhow::Result<()> {
    println!("{db:?}:");
    let s = setup(db, url, "pages").await?;
    let pool = long_series::connect(&s.url).await?;
    let mut series = long_series::create(&pool, "long").await?;
    let start = Instant::now();
    long_series::append(&pool, &s.url, &mut series, POINTS).await?;
    println!(
        "  loaded {POINTS} points in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    if db == Db::Postgres {
        // As autovacuum would in time: statistics for the planner, and no autovacuum
        // worker busy on the fresh million rows during the timed requests.
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    }
    let cpu = CpuProbe {
        server_pid: s.server.pid,
        postgres: (db == Db::Postgres).then_some(&pool),
    };
    let client = reqwest::Client::new();
    let page = format!("{}/series/{}", s.server.base, series.series_id);
    let before = cpu.sample().await?;
    let start = Instant::now();
    let first = client.get(&page).send().await?.text().await?;
    ensure!(first.contains("of 1000000 points shown"), "first view");
    println!(
        "  first view (tiles the line): {:.0} ms wall, {:.0} ms server CPU",
        ms(start.elapsed()),
        ms(CpuProbe::between(&before, &cpu.sample().await?))
    );
    let views = [
        (
            "whole series, 1,000,000 points",
            String::new(),
            "of 1000000 points",
        ),
        (
            "zoom: commits 250,001–750,000",
            "?x=commit&from=250001&to=750000".into(),
            "of 500000 points",
        ),
        (
            "zoom: commits 450,001–550,000",
            "?x=commit&from=450001&to=550000".into(),
            "of 100000 points",
        ),
        (
            "zoom: commits 500,001–505,000",
            "?x=commit&from=500001&to=505000".into(),
            "of 5000 points",
        ),
        (
            "zoom by time: the middle 100,000 minutes",
            format!(
                "?x=time&from={}&to={}",
                long_series::T0 + 450_000 * 60_000,
                long_series::T0 + 549_999 * 60_000
            ),
            "of 100000 points",
        ),
    ];
    for (what, q, expect) in &views {
        println!("  {what} (load average {})", load_average());
        time_page(&client, &cpu, &format!("{page}{q}"), expect).await?;
    }
    println!(
        "  server RSS after the page requests: {:.0} MB (VmHWM {:.0} MB)",
        mb(rss_bytes(s.server.pid).unwrap_or(0)),
        mb(hwm_bytes(s.server.pid).unwrap_or(0))
    );
    memory(&s, &pool, &mut series, big).await
}

/// Grows the database to `big` points, then reads pages and posts runs for 30 s while
/// sampling the server's RSS.
async fn memory(
    s: &Setup,
    pool: &sqlx::AnyPool,
    series: &mut LongSeries,
    big: i64,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut other = long_series::create(pool, "bulk").await?;
    let more = big - long_series::stored_points(pool).await?;
    if more > 0 {
        long_series::append(pool, &s.url, &mut other, more).await?;
    }
    println!(
        "  grew the database to {} points in {:.0} s",
        long_series::stored_points(pool).await?,
        start.elapsed().as_secs_f64()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let pages_done = Arc::new(AtomicU64::new(0));
    let runs_done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..2u64 {
        let (stop, done) = (stop.clone(), pages_done.clone());
        let urls = [
            format!("{}/series/{}", s.server.base, series.series_id),
            format!("{}/series/{}", s.server.base, other.series_id),
            format!(
                "{}/series/{}?x=commit&from=450001&to=550000",
                s.server.base, series.series_id
            ),
        ];
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = c as usize;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = client.get(&urls[i % urls.len()]).send().await {
                    let _ = r.bytes().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }));
    }
    for c in 0..4u64 {
        let (stop, done) = (stop.clone(), runs_done.clone());
        let (base, token) = (s.server.base.clone(), s.token.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // 100 series × 5 samples, on a branch of its own per client.
                let results: Vec<_> = (0..100)
                    .map(|b| json!({"benchmark": format!("Bench{b}"), "measure": "time", "unit": "ns",
                                    "samples": [100.0 + b as f64, 101.0, 102.0, 99.0, 100.5]}))
                    .collect();
                let body = json!({"project": "long", "branch": format!("load-{c}"), "testbed": "box",
                                  "commit": {"sha": format!("{:08x}{:032x}", c, n)}, "results": results});
                let ok = client
                    .post(format!("{base}/api/v1/runs"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut peak = 0;
    let mut samples = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(b) = rss_bytes(s.server.pid) {
            peak = peak.max(b);
            samples.push(b);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    samples.sort_unstable();
    println!(
        "  serving pages and ingesting for 30 s: {} pages, {} runs of 100 points; server RSS median {:.0} MB, peak {:.0} MB (VmHWM since start {:.0} MB)",
        pages_done.load(Ordering::Relaxed),
        runs_done.load(Ordering::Relaxed),
        mb(samples.get(samples.len() / 2).copied().unwrap_or(0)),
        mb(peak),
        mb(hwm_bytes(s.server.pid).unwrap_or(0))
    );
    Ok(())
}

/// The peak resident set size of a process so far (VmHWM), in bytes.
fn hwm_bytes(pid: u32) -> Option<u64> {
    let p = procfs::process::Process::new(pid as i32).ok()?;
    p.status().ok()?.vmhwm.map(|kb| kb * 1024)
}

/// Peak RSS of `perfwatch import` of `files` Go benchmark files of 100 results each.
async fn import_rss(s: &Setup, dir: &Path, files: usize) -> anyhow::Result<(u64, Duration)> {
    let folder = dir.join(format!("import-{files}"));
    std::fs::create_dir_all(&folder)?;
    let mut manifest = String::from("file,commit,branch,time\n");
    for f in 0..files {
        let mut out = String::new();
        for b in 0..100 {
            out.push_str(&format!(
                "BenchmarkImport{b}-4   \t 1000000\t  {} ns/op\n",
                100 + (f * 7 + b) % 13
            ));
        }
        let name = format!("r{f}.txt");
        std::fs::write(folder.join(&name), out)?;
        manifest.push_str(&format!(
            "{name},{:040x},main,{}\n",
            files * 1_000_000 + f,
            1_700_000_000 + f * 60
        ));
    }
    let m = folder.join("manifest.csv");
    std::fs::write(&m, manifest)?;
    let project = format!("import{files}");
    let start = Instant::now();
    let mut child = tokio::process::Command::new(perfwatch_bin()?)
        .args([
            "import",
            folder.to_str().unwrap(),
            "--manifest",
            m.to_str().unwrap(),
        ])
        .args(["--project", &project, "--server", &s.server.base])
        .env("PERFWATCH_TOKEN", &s.token)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id().context("import pid")?;
    // VmHWM is the peak so far; the last reading before exit is the peak of the run.
    let mut peak = 0;
    let status = loop {
        if let Ok(p) = procfs::process::Process::new(pid as i32) {
            if let Some(kb) = p.status().ok().and_then(|s| s.vmhwm) {
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(st) = child.try_wait()? {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    ensure!(status.success(), "import of {files} files failed");
    Ok((peak, start.elapsed()))
}

async fn imports(db: Db, url: Option<String>) -> anyhow::Result<()> {
    let s = setup(db, url, "import").await?;
    let client = reqwest::Client::new();
    for files in [1_000usize, 10_000] {
        let project = format!("import{files}");
        let r = client
            .post(format!("{}/api/v1/projects", s.server.base))
            .bearer_auth(&s.token)
            .json(&json!({"slug": project}))
            .send()
            .await?;
        ensure!(r.status().is_success(), "create project {project}");
        let (peak, took) = import_rss(&s, &s._tmp.0, files).await?;
        println!(
            "{db:?}: perfwatch import of {} points ({files} files × 100 results): peak RSS {:.1} MB, {:.0} s",
            files * 100,
            mb(peak),
            took.as_secs_f64()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    if a.pages && a.sqlite {
        pages(Db::Sqlite, None, a.big).await?;
    }
    if let (true, Some(url)) = (a.pages, &a.postgres) {
        // A database of its own on the given server.
        let db_url = fresh_on(url).await?;
        let done = pages(Db::Postgres, Some(db_url.clone()), a.big).await;
        drop_database(url, &db_url).await?;
        done?;
    }
    if a.import {
        if a.sqlite {
            imports(Db::Sqlite, None).await?;
        }
        if let Some(url) = &a.postgres {
            let db_url = fresh_on(url).await?;
            let done = imports(Db::Postgres, Some(db_url.clone())).await;
            drop_database(url, &db_url).await?;
            done?;
        }
    }
    Ok(())
}

/// Drops the bench's database `db_url` (10M points take gigabytes) through the server
/// at `admin_url`; FORCE ends the connections of pools not yet closed.
async fn drop_database(admin_url: &str, db_url: &str) -> anyhow::Result<()> {
    let name = db_url.rsplit('/').next().context("a database name")?;
    ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "unexpected database name {name}"
    );
    let pool = long_series::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&pool)
    .await?;
    pool.close().await;
    println!("  dropped database {name}");
    Ok(())
}

/// A fresh database on the PostgreSQL server at `url` (through the same helper the
/// tests use, which reads TEST_DATABASE_URL).
async fn fresh_on(url: &str) -> anyhow::Result<String> {
    std::env::set_var("TEST_DATABASE_URL", url);
    Ok(fresh_database(Db::Postgres).await.0)
}
