//! The outbox (`github.report` work items): check runs (GitHub App) or commit statuses
//! (token) set to "in progress" when a job starts and to its verdict at the end, the
//! one sticky comment per PR (found by its hidden marker, edited in place), a short
//! new comment only when the verdict turns into a regression (edits notify nobody),
//! and replies to commands. Retried with backoff; GitHub's rate-limit reset is waited
//! for; queued reports survive restarts.

use perfwatch_github::comment::{is_sticky, sticky_body};
use perfwatch_github::{CheckRunReq, Client, ClientError, StatusReq};

use super::enqueue::Report;
use super::integration::client;
use super::summary::Verdict;
use crate::error::StoreError;
use crate::queue::{Handler, HandlerFuture, JobFailure, Lease, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::github::IntegrationRow;
use crate::store::perf_jobs::{PerfJobRow, PerfState};
use crate::store::queue::Finish;
use crate::Store;

/// The status context and check-run name.
pub const CONTEXT: &str = "perfwatch";

/// Runs `github.report` work items.
pub struct ReportHandler {
    pub store: Store,
    pub key: SealKey,
    pub public_url: String,
}

enum Fail {
    Client(ClientError),
    Store(StoreError),
}

impl From<ClientError> for Fail {
    fn from(e: ClientError) -> Self {
        Self::Client(e)
    }
}
impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Handler for ReportHandler {
    fn kind(&self) -> &'static str {
        crate::queue::kinds::GITHUB_REPORT
    }

    fn run<'a>(&'a self, queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let report: Report = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            match self.send(&report).await {
                Ok(()) => Ok(Outcome::Done),
                Err(Fail::Client(ClientError::RateLimited { retry_at })) => {
                    // Wait for GitHub's reset instead of spending attempts on it.
                    let at = retry_at.timestamp_millis().max(queue.now_ms() + 1_000);
                    let how = Finish::Retry {
                        not_before: at,
                        error: "GitHub rate limit".into(),
                    };
                    queue
                        .store()
                        .queue_finish(lease.job_id, lease.fence, &how, queue.now_ms())
                        .await?;
                    Ok(Outcome::Finished)
                }
                Err(Fail::Client(e)) if e.is_retryable() => Err(JobFailure::Retry(e.to_string())),
                Err(Fail::Client(e)) => Err(JobFailure::Permanent(e.to_string())),
                Err(Fail::Store(e)) => Err(JobFailure::Retry(e.to_string())),
            }
        })
    }
}

impl ReportHandler {
    async fn send(&self, report: &Report) -> Result<(), Fail> {
        match report {
            Report::Reply {
                project_id,
                pr,
                body,
            } => {
                let Some((integ, gh)) = self.client_for(*project_id).await? else {
                    return Ok(());
                };
                gh.create_issue_comment(&integ.repo, *pr as u64, body)
                    .await?;
                Ok(())
            }
            Report::Started { job } => {
                let job = self.store.perf_job(*job).await?;
                let Some((integ, gh)) = self.client_for(job.project_id).await? else {
                    return Ok(());
                };
                if job.state.is_final() {
                    return Ok(()); // the end was reported already
                }
                let text = format!("job {} running", job.id);
                self.set_state(&gh, &integ, &job, "in_progress", None, &text, "")
                    .await
            }
            Report::Finished { job } => {
                let job = self.store.perf_job(*job).await?;
                let Some((integ, gh)) = self.client_for(job.project_id).await? else {
                    return Ok(());
                };
                self.finished(&gh, &integ, &job).await
            }
        }
    }

    async fn client_for(&self, project_id: i64) -> Result<Option<(IntegrationRow, Client)>, Fail> {
        let Some(integ) = self.store.github_integration(project_id).await? else {
            return Ok(None);
        };
        Ok(client(&self.key, &integ)?.map(|c| (integ, c)))
    }

    fn job_url(&self, job: &PerfJobRow) -> String {
        format!("{}/jobs/{}", self.public_url.trim_end_matches('/'), job.id)
    }

    /// A check run when the integration is an App, else a commit status.
    #[expect(
        clippy::too_many_arguments,
        reason = "the check run and the status take the same facts"
    )]
    async fn set_state(
        &self,
        gh: &Client,
        integ: &IntegrationRow,
        job: &PerfJobRow,
        status: &str,
        conclusion: Option<&str>,
        title: &str,
        summary: &str,
    ) -> Result<(), Fail> {
        if integ.app_id.is_some() {
            let req = CheckRunReq {
                name: CONTEXT.into(),
                head_sha: job.sha.clone(),
                status: status.into(),
                conclusion: conclusion.map(str::to_string),
                external_id: Some(format!("perfwatch-job-{}", job.id)),
                details_url: Some(self.job_url(job)),
                title: title.into(),
                summary: summary.chars().take(60_000).collect(),
            };
            match job.check_run_id {
                Some(id) => gh.update_check_run(&integ.repo, id as u64, &req).await?,
                None => {
                    let id = gh.create_check_run(&integ.repo, &req).await?;
                    self.store.perf_job_set_check_run(job.id, id as i64).await?;
                }
            }
            return Ok(());
        }
        let state = match (status, conclusion) {
            ("completed", Some("success" | "neutral")) => "success",
            ("completed", Some("failure")) => "failure",
            ("completed", _) => "error",
            _ => "pending",
        };
        let req = StatusReq {
            state: state.into(),
            context: CONTEXT.into(),
            description: title.into(),
            target_url: Some(self.job_url(job)),
        };
        gh.create_status(&integ.repo, &job.sha, &req).await?;
        Ok(())
    }

    async fn finished(
        &self,
        gh: &Client,
        integ: &IntegrationRow,
        job: &PerfJobRow,
    ) -> Result<(), Fail> {
        let verdict = job.verdict.as_deref().and_then(Verdict::parse);
        let (conclusion, title) = match (job.state, verdict) {
            (PerfState::Processed, Some(v)) => (
                match v {
                    Verdict::Regression | Verdict::Invalid => "failure",
                    Verdict::Improvement | Verdict::NoChange | Verdict::Baseline => "success",
                    _ => "neutral",
                },
                v.as_str().to_string(),
            ),
            (PerfState::Canceled | PerfState::Superseded, _) => (
                "cancelled",
                job.error
                    .clone()
                    .unwrap_or_else(|| job.state.as_str().into()),
            ),
            _ => (
                "failure",
                format!(
                    "job {}: {}",
                    job.state.as_str(),
                    job.error.as_deref().unwrap_or("failed")
                ),
            ),
        };
        let body = match (&job.report, job.state) {
            (Some(r), PerfState::Processed) => r.clone(),
            _ => format!(
                "### perfwatch job {} at `{}`\n\n⚠️ The job {}: {}\n\n[Job {}]({})\n",
                job.id,
                &job.sha[..job.sha.len().min(10)],
                job.state.as_str(),
                job.error
                    .as_deref()
                    .unwrap_or("no details")
                    .replace('\n', " "),
                job.id,
                self.job_url(job)
            ),
        };
        let title: String = title.chars().take(140).collect();
        self.set_state(gh, integ, job, "completed", Some(conclusion), &title, &body)
            .await?;
        let Some(pr) = job.pr_number else {
            return Ok(());
        };
        if matches!(job.state, PerfState::Superseded) {
            return Ok(()); // the newer job's report will take the comment over
        }
        self.sticky(gh, integ, job, pr, &body, verdict).await
    }

    /// Edits the PR's one comment in place (creating it once), and adds a short new
    /// comment only when the verdict turns into a regression.
    async fn sticky(
        &self,
        gh: &Client,
        integ: &IntegrationRow,
        job: &PerfJobRow,
        pr: i64,
        body: &str,
        verdict: Option<Verdict>,
    ) -> Result<(), Fail> {
        let text = sticky_body(body, &self.job_url(job));
        let known = self.store.github_pr_comment(job.project_id, pr).await?;
        let (mut id, last) = match known {
            Some((id, last)) => (id, last),
            None => (None, None),
        };
        if id.is_none() {
            let comments = gh.list_issue_comments(&integ.repo, pr as u64).await?;
            id = comments
                .iter()
                .find(|c| is_sticky(&c.body))
                .map(|c| c.id as i64);
        }
        let id = match id {
            Some(id) => {
                gh.update_issue_comment(&integ.repo, id as u64, &text)
                    .await?;
                id
            }
            None => {
                gh.create_issue_comment(&integ.repo, pr as u64, &text)
                    .await? as i64
            }
        };
        let word = verdict.map_or(job.state.as_str(), Verdict::as_str);
        // Remember the comment before the mention, so a retry never makes a second one.
        self.store
            .github_pr_comment_set(job.project_id, pr, id, last.as_deref().unwrap_or(""))
            .await?;
        if verdict == Some(Verdict::Regression) && last.as_deref() != Some("regression") {
            let who = job
                .requested_by
                .split_whitespace()
                .find(|w| w.starts_with('@'))
                .map(|w| format!("{w} "))
                .unwrap_or_default();
            let note = format!(
                "{who}perfwatch: this pull request is now **slower** at `{}` — see the summary comment above or [job {}]({}).",
                &job.sha[..job.sha.len().min(10)],
                job.id,
                self.job_url(job)
            );
            gh.create_issue_comment(&integ.repo, pr as u64, &note)
                .await?;
        }
        self.store
            .github_pr_comment_set(job.project_id, pr, id, word)
            .await?;
        Ok(())
    }
}
