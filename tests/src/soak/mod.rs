//! The soak: the real `perfwatch serve` on a fresh database (plus a `perfwatch
//! worker` for performance jobs) under mixed load for a while, then checks that
//! nothing went wrong. Used by the `perfwatch-soak` command (long form, figures in
//! docs/benchmarks.md) and by `tests/tests/soak.rs` (short form in CI).

pub mod load;
pub mod record;
pub mod repo;
mod report;
mod verify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use perfwatch_backend::store::NewProject;
use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;
use serde_json::json;

use crate::procs::{perfwatch_bin, ServerProc, WorkerProc};
use load::Shared;
pub use report::SoakReport;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub duration: Duration,
    /// RSS samples before this are left out of the flatness check.
    pub warmup: Duration,
    /// Runs submitted per second, over all ingest tasks.
    pub ingest_rate: f64,
    /// Concurrent tasks of each kind (ingest, pages, API, compare, triage).
    pub concurrency: usize,
    /// A push (one performance job) every this often; `None`: no jobs.
    pub job_every: Option<Duration>,
    pub rss_every: Duration,
    /// Largest allowed max/min ratio of the RSS after warm-up.
    pub rss_ratio_limit: f64,
}

impl SoakOptions {
    /// Defaults for a run of `duration`: warm-up a fifth of it (at least 5 s, at most 2 min).
    pub fn for_duration(duration: Duration) -> Self {
        Self {
            duration,
            warmup: (duration / 5).clamp(Duration::from_secs(5), Duration::from_secs(120)),
            ingest_rate: 20.0,
            concurrency: 2,
            job_every: Some(Duration::from_secs(3)),
            rss_every: Duration::from_secs(2),
            rss_ratio_limit: 1.2,
        }
    }
}

/// Where the load goes.
pub enum Target {
    /// A fresh database of this kind, served by the real binary started here.
    Fresh(Db),
    /// A server already running (no jobs; RSS only when its pid is given).
    Existing {
        base: String,
        token: String,
        pid: Option<u32>,
    },
}

/// The load tasks of one soak, until the deadline; returns the jobs repository back.
async fn drive(
    s: &Arc<Shared>,
    o: &SoakOptions,
    pid: Option<u32>,
    repo: Option<repo::JobRepo>,
) -> Option<repo::JobRepo> {
    let mut tasks = Vec::new();
    for t in 0..o.concurrency as u64 {
        let per_task = o.ingest_rate / o.concurrency as f64;
        tasks.push(tokio::spawn(load::ingester(s.clone(), per_task, 10 + t)));
        tasks.push(tokio::spawn(load::page_reader(s.clone(), 20 + t)));
        tasks.push(tokio::spawn(load::api_reader(s.clone(), 30 + t)));
        tasks.push(tokio::spawn(load::comparer(s.clone(), 40 + t)));
        tasks.push(tokio::spawn(load::triager(s.clone(), 50 + t)));
    }
    if let Some(pid) = pid {
        tasks.push(tokio::spawn(load::rss_sampler(s.clone(), pid, o.rss_every)));
    }
    let pusher = match (repo, o.job_every) {
        (Some(r), Some(every)) => Some(tokio::spawn(load::pusher(s.clone(), r, every))),
        _ => None,
    };
    for t in tasks {
        t.await.expect("a load task panicked");
    }
    match pusher {
        Some(p) => Some(p.await.expect("the pusher panicked")),
        None => None,
    }
}

/// Runs one soak and checks it; the report lists every violation.
pub async fn run(target: Target, o: SoakOptions) -> anyhow::Result<SoakReport> {
    match target {
        Target::Existing { base, token, pid } => {
            let s = Arc::new(Shared::new(base, token, Instant::now() + o.duration));
            let r = s
                .http
                .post(format!("{}/api/v1/projects", s.base))
                .bearer_auth(&s.token)
                .json(&json!({ "slug": load::PROJECT }))
                .send()
                .await?;
            anyhow::ensure!(
                r.status().is_success() || r.status() == 409,
                "creating project {}: HTTP {}",
                load::PROJECT,
                r.status()
            );
            drive(&s, &o, pid, None).await;
            let elapsed = s.rec.elapsed();
            verify::runs_by_api(&s).await;
            Ok(SoakReport::new(&s, &o, "existing server", elapsed, None))
        }
        Target::Fresh(db) => fresh(db, o).await,
    }
}

async fn fresh(db: Db, o: SoakOptions) -> anyhow::Result<SoakReport> {
    let bin = perfwatch_bin()?;
    let (url, sqlite_file) = fresh_database(db).await;
    let store = Store::connect(&url).await.context("open the database")?;
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "soak", None).await?;
    for (slug, branch) in [(load::PROJECT, "main"), (load::JOBS_PROJECT, "master")] {
        store
            .create_project(&NewProject {
                slug: slug.into(),
                name: None,
                main_branch: Some(branch.into()),
                repo_url: None,
            })
            .await?;
    }
    let tmp = std::env::temp_dir().join(format!("pw-soak-{}-{}", std::process::id(), rand_tag()));
    std::fs::create_dir_all(&tmp)?;
    let key = tmp.join("secret.key");
    let data = tmp.join("server-data");
    let server = ServerProc::start(
        &bin,
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
    let s = Arc::new(Shared::new(
        server.base.clone(),
        token,
        Instant::now() + o.duration,
    ));
    let mut worker = None;
    let mut repo = None;
    if o.job_every.is_some() {
        let r = repo::JobRepo::create(tmp.join("repo"))?;
        let res = s
            .http
            .put(format!(
                "{}/api/v1/projects/{}/github",
                s.base,
                load::JOBS_PROJECT
            ))
            .bearer_auth(&s.token)
            .json(&json!({
                "repo": load::JOBS_REPO, "webhook_secret": load::JOBS_SECRET,
                "clone_url": r.dir.to_str().unwrap(),
                "master_branches": ["master"], "reconcile_every_s": 0,
            }))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "integration: HTTP {}", res.status());
        worker = Some(WorkerProc::start(&bin, &url, &tmp.join("worker-data"), &key).await?);
        repo = Some(r);
    }
    let label = match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    };
    let repo = drive(&s, &o, Some(server.pid), repo).await;
    let elapsed = s.rec.elapsed();
    let jobs = match &repo {
        Some(r) => Some(verify::jobs(&s, &store, r).await),
        None => None,
    };
    verify::runs_in_db(&s, &store).await?;
    let report = SoakReport::new(&s, &o, label, elapsed, jobs);
    server.kill9().await;
    drop(worker);
    drop(repo);
    store.close().await;
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(f) = sqlite_file {
        for suffix in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
    }
    Ok(report)
}

fn rand_tag() -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    hex::encode(r)
}

/// Jobs pushed and how they ended.
#[derive(Debug, Default)]
pub struct JobCounts {
    pub pushed: usize,
    pub processed: usize,
    /// Per state other than processed.
    pub other: HashMap<String, usize>,
}
