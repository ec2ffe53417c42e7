//! Helpers shared by the job pages' server functions (server side only).

use leptos::prelude::*;
use perfwatch_backend::accounts::Right;
use perfwatch_backend::store::perf_jobs::{LogLine, PerfJobRow};
use perfwatch_backend::{Store, StoreError};

use super::{JobSummary, LogLineView, StepView};
use crate::api_error::AppError;

pub use crate::api_ctx::actor;

pub fn line(l: LogLine) -> LogLineView {
    LogLineView {
        seq: l.seq,
        step: l.step,
        stream: l.stream,
        line: l.line,
        at: l.at,
    }
}

pub fn summary(j: &PerfJobRow, project: &str) -> JobSummary {
    JobSummary {
        id: j.id,
        project: project.to_string(),
        purpose: j.purpose.as_str().to_string(),
        state: j.state.as_str().to_string(),
        sha: j.sha.clone(),
        branch: j.branch.clone(),
        pr_number: j.pr_number,
        base_sha: j.base_sha.clone(),
        requested_by: j.requested_by.clone(),
        verdict: j.verdict.clone(),
        error_class: j.error_class.clone(),
        error: j.error.clone(),
        stop_requested: j.stop_requested.clone(),
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
    }
}

/// Project slugs by id, looked up once per request.
#[derive(Default)]
pub struct Slugs(std::collections::HashMap<i64, String>);

impl Slugs {
    pub async fn get(&mut self, store: &Store, id: i64) -> Result<String, StoreError> {
        if let Some(s) = self.0.get(&id) {
            return Ok(s.clone());
        }
        let s = store.project_slug_of(id).await?;
        self.0.insert(id, s.clone());
        Ok(s)
    }
}

/// The highest sequence number of a job's log (0: none). Sequence numbers are
/// 1, 2, 3… without gaps, so a binary search over "is there a line after k?" finds
/// it with a few one-row reads instead of reading the whole log.
pub async fn last_seq(store: &Store, job: i64, at_least: i64) -> Result<i64, StoreError> {
    let has_after = |k: i64| async move {
        Ok::<bool, StoreError>(!store.perf_job_logs(job, k, 1).await?.is_empty())
    };
    // The last seq N is at least `lo`; once a `hi` without a line after it is
    // found, N is the smallest k in lo..=hi without a line after it.
    let mut lo = at_least.max(0);
    let mut step = 64;
    let mut hi = lo + step;
    while has_after(hi).await? {
        lo = hi + 1;
        step *= 2;
        hi = lo + step;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if has_after(mid).await? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Log lines after `after`: all of them (up to `max`) when `keep` is 0, else only
/// the last `keep`. Answers the lines and whether some were skipped.
pub async fn lines_after(
    store: &Store,
    job: i64,
    after: i64,
    keep: i64,
    max: i64,
) -> Result<(Vec<LogLineView>, bool), StoreError> {
    if keep <= 0 {
        let l = store.perf_job_logs(job, after, max).await?;
        return Ok((l.into_iter().map(line).collect(), false));
    }
    let first = store.perf_job_logs(job, after, keep + 1).await?;
    if (first.len() as i64) <= keep {
        return Ok((first.into_iter().map(line).collect(), false));
    }
    let last = last_seq(store, job, after + keep + 1).await?;
    let from = (last - keep).max(after);
    let l = store.perf_job_logs(job, from, keep).await?;
    Ok((l.into_iter().map(line).collect(), from > after))
}

/// The steps of an executed job, from its stored output.
pub fn steps(output: Option<&str>) -> Vec<StepView> {
    let Some(v) = output.and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok()) else {
        return Vec::new();
    };
    let Some(steps) = v.pointer("/output/steps").and_then(|s| s.as_array()) else {
        return Vec::new();
    };
    let text = |s: &serde_json::Value, k: &str| {
        s.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    steps
        .iter()
        .map(|s| StepView {
            step: text(s, "step"),
            side: text(s, "side"),
            repeat: s.get("repeat").and_then(|x| x.as_i64()).unwrap_or(0),
            duration_ms: s.get("duration_ms").and_then(|x| x.as_i64()).unwrap_or(0),
            outcome: text(s, "outcome"),
        })
        .collect()
}

/// The job and the visitor's right `right` on its project; `Forbidden` when
/// `require` and the right is missing.
pub async fn job_with_right(store: &Store, id: i64, right: Right) -> Result<PerfJobRow, AppError> {
    let job = store.perf_job(id).await.map_err(AppError::from)?;
    actor()
        .require(right, Some(job.project_id))
        .map_err(AppError::from)?;
    Ok(job)
}

/// `https://host` of this request, for the webhook URL shown to admins.
pub fn request_origin() -> String {
    let parts = use_context::<http::request::Parts>();
    let header = |name: &str| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or_else(|| "localhost".into());
    let proto = header("x-forwarded-proto").unwrap_or_else(|| "http".into());
    format!("{proto}://{host}")
}
