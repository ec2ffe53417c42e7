//! Metric sources of a project and window collection (docs/metrics.md): a stored
//! source (the `[metrics]` TOML table, checked when saved; a bearer token sealed) is
//! evaluated over a run's exact window once the source's settle delay has passed, as a
//! `metrics.collect` job of the work queue (retried while the source is down), and the
//! values are stored as a linked run at the same commit, branch and testbed. Values
//! with too little coverage, or no data where data is required, are listed as invalid
//! in the linked run's metadata — never stored as a value, never "no change".

use perfwatch_core::model::{CommitInput, RunSubmission};
use perfwatch_sources::{
    collect_window, not_before, parse_metrics_table, to_results, Auth, PromSource, QuerySpec,
    WindowVars,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::followup::FollowUps;
use crate::queue::{kinds, Handler, HandlerFuture, JobFailure, Lease, NewJob, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::metric_sources::MetricSourceRow;
use crate::store::IngestOptions;
use crate::time::now_ms;
use crate::Store;

/// What an admin sends (`PUT /api/v1/projects/{slug}/metric-sources/{name}`).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// The `[metrics]` table's body as TOML: `url`, `settle`, `scrape_interval`,
    /// `[headers]`, `[[query]]`…
    pub config: String,
    /// Sent as `Authorization: Bearer …`; sealed; absent keeps the stored one.
    #[serde(default)]
    pub bearer_token: Option<String>,
}

// By hand: bearer_token must never reach a log line.
impl std::fmt::Debug for SourceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInput")
            .field("config", &self.config)
            .field(
                "bearer_token",
                &perfwatch_core::redact::Redacted(&self.bearer_token),
            )
            .finish()
    }
}

/// A source as anyone with read access sees it (no token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceView {
    pub name: String,
    pub kind: String,
    pub config: String,
    pub bearer_token_set: bool,
    pub queries: Vec<String>,
}

fn parse(config: &str) -> Result<(PromSource, Vec<QuerySpec>)> {
    let table: toml::Table = toml::from_str(config)
        .map_err(|e| StoreError::invalid("config", format!("not a TOML table: {e}")))?;
    parse_metrics_table(&table).map_err(|e| StoreError::invalid("config", e.to_string()))
}

fn view(row: &MetricSourceRow) -> SourceView {
    SourceView {
        name: row.name.clone(),
        kind: row.kind.clone(),
        config: row.config.clone(),
        bearer_token_set: row.bearer_token.is_some(),
        queries: parse(&row.config)
            .map(|(_, q)| q.into_iter().map(|q| q.name).collect())
            .unwrap_or_default(),
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "name",
            "1 to 64 letters, digits, - or _",
        ))
    }
}

/// Saves a source after checking its table and every query template.
pub async fn put_source(
    store: &Store,
    key: &SealKey,
    slug: &str,
    name: &str,
    inp: &SourceInput,
) -> Result<SourceView> {
    check_name(name)?;
    let project = store.project(slug).await?;
    parse(&inp.config)?;
    let sealed = inp
        .bearer_token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| key.seal(t.trim()));
    store
        .metric_source_put(project.id, name, &inp.config, sealed.as_deref(), now_ms())
        .await?;
    Ok(view(&store.metric_source(project.id, name).await?))
}

pub async fn list_sources(store: &Store, slug: &str) -> Result<Vec<SourceView>> {
    let project = store.project(slug).await?;
    Ok(store
        .metric_sources(project.id)
        .await?
        .iter()
        .map(view)
        .collect())
}

/// Payload of a `metrics.collect` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectJob {
    pub run_id: i64,
    pub source_id: i64,
}

/// Queues the collection of `source` over run `run_id`'s window, due once the window
/// has settled. Returns the work item's id and when it is due (ms).
pub async fn request(store: &Store, run_id: i64, source: &str) -> Result<(i64, i64)> {
    let run = store.run_detail(run_id).await?;
    let project = store.project(&run.project).await?;
    let row = store.metric_source(project.id, source).await?;
    let (src, _) = parse(&row.config)?;
    let end = run.finished_at.ok_or_else(|| {
        StoreError::invalid("run", "the run has no finished_at: its window is unknown")
    })?;
    let end_t = chrono::DateTime::from_timestamp_millis(end)
        .ok_or_else(|| StoreError::invalid("run", "finished_at out of range"))?;
    let due = not_before(&src, end_t).timestamp_millis().max(now_ms());
    let job = NewJob {
        kind: kinds::METRICS_COLLECT.into(),
        payload: serde_json::to_string(&CollectJob {
            run_id,
            source_id: row.id,
        })?,
        priority: 5,
        not_before: due,
        max_attempts: 8,
        backoff_ms: 5_000,
        coalesce_key: Some(format!("metrics:{run_id}:{}", row.id)),
    };
    let id = store
        .queue_enqueue_coalesced(&job, now_ms(), |old| Ok(old.to_string()))
        .await?;
    Ok((id, due))
}

/// Runs `metrics.collect` jobs.
pub struct CollectHandler {
    pub store: Store,
    pub key: SealKey,
}

impl Handler for CollectHandler {
    fn kind(&self) -> &'static str {
        kinds::METRICS_COLLECT
    }

    fn run<'a>(&'a self, _queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let job: CollectJob = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            collect(&self.store, &self.key, &job).await?;
            Ok(Outcome::Done)
        })
    }
}

async fn collect(
    store: &Store,
    key: &SealKey,
    job: &CollectJob,
) -> std::result::Result<i64, JobFailure> {
    let perm = |e: StoreError| JobFailure::Permanent(e.to_string());
    let run = store.run_detail(job.run_id).await?;
    let row = store.metric_source_by_id(job.source_id).await?;
    let (mut src, queries) = parse(&row.config).map_err(perm)?;
    if let Some(t) = &row.bearer_token {
        src.auth = Auth::Bearer(key.open(t, "metric source token").map_err(perm)?);
    }
    let ts = |ms: i64| chrono::DateTime::from_timestamp_millis(ms);
    let (Some(start), Some(end)) = (ts(run.started_at), run.finished_at.and_then(ts)) else {
        return Err(JobFailure::Permanent("the run's window is unknown".into()));
    };
    let vars = WindowVars {
        start,
        end,
        run_id: Some(run.id.to_string()),
        commit: run.commit.as_ref().map(|c| c.sha.clone()),
    };
    let collection = collect_window(&src, &queries, &vars).await.map_err(|e| {
        if e.is_retryable() {
            JobFailure::Retry(e.to_string())
        } else {
            JobFailure::Permanent(e.to_string())
        }
    })?;
    let (results, mut metadata) = to_results(&collection, &queries);
    if results.is_empty() {
        return Err(JobFailure::Permanent(format!(
            "no valid metric values over run {}'s window: {}",
            run.id,
            serde_json::Value::Object(metadata)
        )));
    }
    metadata.insert("linked_run".into(), run.id.into());
    metadata.insert("metric_source".into(), row.name.clone().into());
    let sub = RunSubmission {
        project: run.project.clone(),
        branch: run.branch.clone(),
        commit: run.commit.as_ref().map(|c| CommitInput {
            sha: c.sha.clone(),
            ..CommitInput::default()
        }),
        testbed: Some(run.testbed.clone()),
        run_key: Some(format!("metrics-{}-{}", run.id, row.id)),
        started_at: Some(start),
        finished_at: Some(end),
        trigger: Some("metrics".into()),
        metadata,
        results,
    };
    let valid = perfwatch_core::validate::validate_run(sub)
        .map_err(|e| JobFailure::Permanent(format!("metric values: {e}")))?;
    let stored = store.store_run(&valid, &IngestOptions::default()).await?;
    let _ = FollowUps::new(store.clone())
        .enqueue(&stored, valid.commit.is_some())
        .await;
    Ok(stored.run_id)
}
