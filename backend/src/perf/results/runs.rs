//! The measured runs of an executed job stored as perfwatch runs: branch, commit, PR,
//! job id and trigger `job`, idempotent by run key (a crash while storing repeats
//! nothing). A run whose load or metrics step produced no data is named as invalid.

use perfwatch_core::model::{CommitInput, RunSubmission};
use perfwatch_jobs::runner::{Side, SideRun};
use serde_json::{Map, Value};

use crate::error::{Result, StoreError};
use crate::perf::run::StoredOutput;
use crate::store::perf_jobs::{PerfJobRow, Purpose};
use crate::store::{IngestOptions, StoredRun};
use crate::Store;

/// The job's runs as stored.
#[derive(Default)]
pub(super) struct StoredRuns {
    /// The valid runs of each side: the ones compared.
    pub(super) head: Vec<i64>,
    pub(super) base: Vec<i64>,
    /// Every run stored, valid or not.
    pub(super) all: Vec<i64>,
    /// Why runs are invalid or missing, one line each, for the report.
    pub(super) invalid: Vec<String>,
    /// Runs of a master-set job, for detection once the verdict lets them through.
    pub(super) to_detect: Vec<StoredRun>,
}

/// Stores every run of the job's output that has results.
pub(super) async fn store_runs(
    store: &Store,
    job: &PerfJobRow,
    out: &StoredOutput,
    project: &str,
    master: &str,
) -> Result<StoredRuns> {
    let mut runs = StoredRuns::default();
    for r in &out.output.runs {
        runs.invalid.extend(invalid_notes(r));
        if r.results.is_empty() {
            continue;
        }
        let branch = branch_of(r.side, job, master);
        let sub = submission(job, out, r, project, branch);
        let valid = perfwatch_core::validate::validate_run(sub).map_err(|e| {
            StoreError::Data(format!("{} run {}: {e}", side_word(r.side), r.repeat + 1))
        })?;
        let stored = store.store_run(&valid, &IngestOptions::default()).await?;
        runs.all.push(stored.run_id);
        if r.invalid.is_empty() {
            match r.side {
                Side::Head => runs.head.push(stored.run_id),
                Side::Base => runs.base.push(stored.run_id),
            }
        }
        if is_master_like(job.purpose) {
            runs.to_detect.push(stored);
        }
    }
    Ok(runs)
}

/// Jobs that measure the master branch (a master set, its backfill, or the
/// confirmation of a regression): their runs feed detection.
pub(super) fn is_master_like(purpose: Purpose) -> bool {
    matches!(
        purpose,
        Purpose::Master | Purpose::Backfill | Purpose::Confirm
    )
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Head => "head",
        Side::Base => "base",
    }
}

/// The report's lines for a run: each reason it is invalid, or that it has no results.
fn invalid_notes(r: &SideRun) -> Vec<String> {
    let side = side_word(r.side);
    let mut notes: Vec<String> = r
        .invalid
        .iter()
        .map(|why| format!("{side} run {} ({}): {why}", r.repeat + 1, short(&r.sha)))
        .collect();
    if r.results.is_empty() && r.invalid.is_empty() {
        notes.push(format!("{side} run {}: no results", r.repeat + 1));
    }
    notes
}

/// The branch a run is stored on: the head on the job's branch; the base on master for
/// master-set jobs, else on `<head ref>@base` so a PR's base never joins master's line.
fn branch_of(side: Side, job: &PerfJobRow, master: &str) -> String {
    match (side, job.purpose) {
        (Side::Head, _) => job.branch.clone().unwrap_or_else(|| master.to_string()),
        (Side::Base, Purpose::Master | Purpose::Backfill | Purpose::Confirm) => master.to_string(),
        (Side::Base, _) => format!("{}@base", job.head_ref.as_deref().unwrap_or("pr")),
    }
}

/// A measured run as the submission ingest validates.
fn submission(
    job: &PerfJobRow,
    out: &StoredOutput,
    r: &SideRun,
    project: &str,
    branch: String,
) -> RunSubmission {
    let meta = out.commits.get(&r.sha);
    RunSubmission {
        project: project.to_string(),
        branch: Some(branch),
        commit: Some(CommitInput {
            sha: r.sha.clone(),
            parent: meta.and_then(|m| m.parent.clone()),
            author: meta.and_then(|m| m.author.clone()),
            message: meta.and_then(|m| m.message.clone()),
            time: meta.and_then(|m| m.time),
        }),
        testbed: Some(
            out.output
                .testbed
                .clone()
                .unwrap_or_else(|| "perfwatch-runner".into()),
        ),
        run_key: Some(format!(
            "perfwatch-job-{}-{}-{}",
            job.id,
            side_word(r.side),
            r.repeat
        )),
        started_at: Some(r.started_at),
        finished_at: Some(r.finished_at),
        trigger: Some("job".into()),
        metadata: run_metadata(job, out, r),
        results: r.results.clone(),
    }
}

/// The run's own metadata plus what links it to the job: job id, definition hash,
/// side, repeat (1-based), PR and why it is invalid.
fn run_metadata(job: &PerfJobRow, out: &StoredOutput, r: &SideRun) -> Map<String, Value> {
    let mut metadata = r.metadata.clone();
    metadata.insert("perfwatch_job".into(), job.id.into());
    metadata.insert(
        "definition_hash".into(),
        out.output.definition_hash.clone().into(),
    );
    metadata.insert("side".into(), side_word(r.side).into());
    metadata.insert("repeat".into(), (r.repeat + 1).into());
    if let Some(pr) = job.pr_number {
        metadata.insert("pr".into(), pr.into());
    }
    if !r.invalid.is_empty() {
        metadata.insert("invalid".into(), serde_json::json!(r.invalid));
    }
    metadata
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
