//! One performance job, start to end: sync the mirror, read the definition at head,
//! check out head (and base when interleaving), build each side once, then for every
//! repeat and side: start the service, run the load, collect metrics over the load's
//! exact window, stop the service. Everything is bounded by the definition's `timeout`
//! and by the cancel token; work dirs are removed at the end, whatever happened.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use perfwatch_core::model::ResultInput;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::definition::{self, DefinitionError, JobDefinition, MAX_REPEATS};
use crate::git::{self, GitError, Mirror};
use crate::process::{LogSink, StepError};
use crate::sides;
pub use crate::spec::{JobSpec, DEFINITION_FILE};

/// Which commit of the job a run or step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The commit the job is for.
    Head,
    /// The comparison commit run in the same job (`interleave = true`).
    Base,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Head => "head",
            Side::Base => "base",
        }
    }
}

/// Collects the service's metrics over a load window (the `[metrics]` table is
/// interpreted by the collector, not here).
pub trait MetricsCollector: Send + Sync {
    fn collect<'a>(
        &'a self,
        table: &'a toml::Table,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Collected, String>> + Send + 'a>>;
}

/// What a metrics step brought back: values that can be trusted, what the run should
/// keep about them (query texts, coverage), and the values that could not be trusted
/// — any of those makes the run invalid, while the good values are still kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    pub results: Vec<ResultInput>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub invalid: Vec<String>,
}

/// One run of one side: a load and its metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideRun {
    pub side: Side,
    /// Full 40-digit commit id.
    pub sha: String,
    /// 0-based.
    pub repeat: u32,
    /// The load step's window (what metrics were queried over).
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub results: Vec<ResultInput>,
    pub metadata: Map<String, Value>,
    /// Why this run must not be compared; empty when it is valid. An invalid run is
    /// never "no change".
    pub invalid: Vec<String>,
}

/// One step as it happened, for the job page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// `checkout`, `build`, `service`, `load` or `metrics`.
    pub step: String,
    pub side: Side,
    pub repeat: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `ok`, `failed (exit N)`, `timed out`, `canceled`, `not ready`, `no data`, …
    pub outcome: String,
}

/// Everything a finished job produced; the backend keeps it as JSON between executing
/// and storing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutput {
    /// [`JobDefinition::hash`]: runs compare only under the same hash.
    pub definition_hash: String,
    /// Where the definition came from: `.perfwatch.toml` or `fallback`.
    pub definition_source: String,
    pub testbed: Option<String>,
    pub repeats: u32,
    /// In execution order.
    pub runs: Vec<SideRun>,
    pub steps: Vec<StepRecord>,
}

/// Why a job ended without output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    #[error("job definition: {0}")]
    Definition(DefinitionError),
    #[error("git: {0}")]
    Git(GitError),
    #[error("{0}")]
    Step(StepError),
    #[error("canceled")]
    Canceled,
    #[error("the job exceeded its timeout")]
    TimedOut,
    /// The worker's own disk or process table (work dirs, ports): worth a retry.
    #[error("worker: {0}")]
    Io(String),
}

impl JobError {
    /// Whether running the same job again would fail the same way: definition errors,
    /// unknown commits, failing builds or services, steps and jobs over their time.
    /// Transient: git fetch/network, spawn failures, the worker's own IO. A cancel is
    /// not a failure at all and reports `false`.
    pub fn is_permanent(&self) -> bool {
        match self {
            JobError::Definition(_) | JobError::TimedOut => true,
            JobError::Git(g) => !matches!(g, GitError::Command { .. } | GitError::Io(_)),
            JobError::Step(s) => !matches!(s, StepError::Spawn { .. } | StepError::Canceled { .. }),
            JobError::Canceled | JobError::Io(_) => false,
        }
    }

    /// The step that failed, as named in the logs (`build head`, `load base#1`).
    pub fn step(&self) -> Option<&str> {
        match self {
            JobError::Step(s) => Some(s.step()),
            _ => None,
        }
    }

    /// A canceled step is the job being canceled.
    pub(crate) fn from_step(e: StepError) -> JobError {
        match e {
            StepError::Canceled { .. } => JobError::Canceled,
            e => JobError::Step(e),
        }
    }
}

impl From<GitError> for JobError {
    fn from(e: GitError) -> Self {
        JobError::Git(e)
    }
}

impl From<DefinitionError> for JobError {
    fn from(e: DefinitionError) -> Self {
        JobError::Definition(e)
    }
}

/// Runs the job described by `spec`. See the module docs and docs/jobs-definition.md.
pub async fn run_job(
    spec: &JobSpec,
    sink: Arc<dyn LogSink>,
    metrics: Option<Arc<dyn MetricsCollector>>,
    cancel: CancellationToken,
) -> Result<JobOutput, JobError> {
    git::check_sha(&spec.head_sha)?;
    if let Some(b) = &spec.base_sha {
        git::check_sha(b)?;
    }
    let work = crate::workdir::WorkDir::create(&spec.work_root)?;
    let result = tokio::select! {
        r = execute(spec, work.path(), sink, metrics, &cancel) => r,
        _ = cancel.cancelled() => Err(JobError::Canceled),
    };
    work.remove().await;
    result
}

async fn execute(
    spec: &JobSpec,
    work: &Path,
    sink: Arc<dyn LogSink>,
    metrics: Option<Arc<dyn MetricsCollector>>,
    cancel: &CancellationToken,
) -> Result<JobOutput, JobError> {
    let (dir, url) = (spec.mirrors_dir.clone(), spec.repo_url.clone());
    let mirror = blocking(move || {
        let m = Mirror::open(&dir, &url)?;
        m.fetch()?;
        Ok(m)
    })
    .await?;
    let head = resolve(&mirror, &spec.head_sha).await?;
    let m = mirror.clone();
    let (h, file) = (head.clone(), DEFINITION_FILE);
    let text = blocking(move || m.file_at(&h, file)).await?;
    let (def, source) = definition_for(text.as_deref(), spec, &head)?;
    let repeats = match spec.repeats_override {
        None => def.repeats,
        Some(n) if (1..=MAX_REPEATS).contains(&n) => n,
        Some(n) => {
            return Err(JobError::Definition(DefinitionError::general(
                "repeats",
                format!("the requested repeats={n} is out of range; give 1 to {MAX_REPEATS}"),
            )))
        }
    };
    let base = match (&spec.base_sha, def.interleave || spec.force_interleave) {
        (Some(b), true) => Some(resolve(&mirror, b).await?),
        _ => None,
    };
    let plan = sides::Plan {
        def: &def,
        mirror: &mirror,
        work,
        head,
        base,
        repeats,
        sink,
        metrics,
        cancel,
    };
    let (runs, steps) = match tokio::time::timeout(def.timeout, plan.run()).await {
        Ok(r) => r?,
        Err(_) => return Err(JobError::TimedOut),
    };
    Ok(JobOutput {
        definition_hash: def.hash(),
        definition_source: source.to_string(),
        testbed: def.testbed.clone(),
        repeats,
        runs,
        steps,
    })
}

/// The definition at head, else the fallback, else an error saying neither exists.
fn definition_for(
    text: Option<&str>,
    spec: &JobSpec,
    head: &str,
) -> Result<(JobDefinition, &'static str), JobError> {
    if let Some(t) = text {
        return Ok((definition::parse(t)?, DEFINITION_FILE));
    }
    match &spec.fallback_definition {
        Some(f) => definition::parse(f)
            .map(|d| (d, "fallback"))
            .map_err(|mut e| {
                e.message = format!("{} (in the project's fallback definition)", e.message);
                JobError::Definition(e)
            }),
        None => Err(JobError::Definition(DefinitionError::general(
            "",
            format!(
                "commit {head} has no {DEFINITION_FILE} and the project has no fallback definition"
            ),
        ))),
    }
}

async fn resolve(mirror: &Mirror, sha: &str) -> Result<String, JobError> {
    let (m, s) = (mirror.clone(), sha.to_string());
    blocking(move || m.resolve(&s)).await
}

/// Git calls block; they run on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GitError> + Send + 'static,
) -> Result<T, JobError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(JobError::Git),
        Err(e) => Err(JobError::Io(format!("git task: {e}"))),
    }
}
