//! Server functions of the job pages (queue, one job, a project's integration and its
//! jobs panel): thin. Each finds the request's actor, checks the right where the page
//! changes something or shows settings, calls the backend (`perfwatch_backend::perf`)
//! and maps the error. The types here are the pages' own: the backend's rows never
//! travel to the browser (they hold the job's raw output and report).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One performance job as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: i64,
    /// The project's slug.
    pub project: String,
    /// `master`, `pr`, `backfill` or `manual`.
    pub purpose: String,
    /// `queued`, `running`, `completed`, `processed`, `failed`, `dead`, `canceled`, `superseded`.
    pub state: String,
    pub sha: String,
    pub branch: Option<String>,
    pub pr_number: Option<i64>,
    pub base_sha: Option<String>,
    pub requested_by: String,
    pub verdict: Option<String>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub stop_requested: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl JobSummary {
    /// No more work will happen on the job (the live views stop polling).
    pub fn is_final(&self) -> bool {
        is_final_state(&self.state)
    }
}

/// Whether a job in `state` is done for good (failed jobs may still be retried).
pub fn is_final_state(state: &str) -> bool {
    matches!(state, "processed" | "dead" | "canceled" | "superseded")
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLineView {
    pub seq: i64,
    pub step: String,
    pub stream: String,
    pub line: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEntry {
    /// 1: claimed next.
    pub position: usize,
    /// Expected start, ms from `QueuePage::now`.
    pub eta_ms: Option<i64>,
    pub job: JobSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningEntry {
    pub job: JobSummary,
    /// The last lines of its log, oldest first.
    pub tail: Vec<LogLineView>,
}

/// The queue page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub queued: Vec<QueuedEntry>,
    pub running: Vec<RunningEntry>,
    /// Median run time of recent jobs, ms.
    pub typical_ms: Option<i64>,
    /// When a runner last heartbeated a job.
    pub last_runner_beat: Option<i64>,
    /// The server's clock when the page was made (ms since the epoch).
    pub now: i64,
}

impl QueuePage {
    /// Jobs wait and no runner heartbeated in the last two minutes.
    pub fn no_worker(&self) -> bool {
        !self.queued.is_empty()
            && self
                .last_runner_beat
                .is_none_or(|t| self.now - t > NO_WORKER_AFTER_MS)
    }
}

/// A runner silent for this long counts as offline.
pub const NO_WORKER_AFTER_MS: i64 = 120_000;

/// How many log lines the queue page shows per running job.
pub const QUEUE_TAIL: i64 = 30;

/// At most this many log lines are sent with the job page; the rest stays on the API.
pub const PAGE_LOG_LIMIT: i64 = 5_000;

/// One step of an executed job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub step: String,
    /// `head` or `base`.
    pub side: String,
    pub repeat: i64,
    pub duration_ms: i64,
    pub outcome: String,
}

/// The job page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub job: JobSummary,
    pub head_ref: Option<String>,
    pub repeats: i64,
    pub definition_hash: Option<String>,
    pub testbed: Option<String>,
    pub waits_for: Option<i64>,
    pub run_ids: Vec<i64>,
    /// The job's runs the validity gate rejected: (run id, reason).
    #[serde(default)]
    pub invalid_runs: Vec<(i64, String)>,
    /// The job's Markdown report (shown as text).
    pub report: Option<String>,
    pub steps: Vec<StepView>,
    /// The first `PAGE_LOG_LIMIT` lines.
    pub log: Vec<LogLineView>,
    /// More lines exist than were sent.
    pub log_cut: bool,
    /// `https://github.com/{repo}/pull/{n}` when the project has an integration.
    pub pr_url: Option<String>,
    /// The compare page between `base_sha` and `sha`.
    pub compare_url: Option<String>,
    /// Whether the visitor may cancel and re-run it.
    pub can_triage: bool,
}

/// What changed on a job since the browser's last look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobLive {
    pub state: String,
    /// Lines after the asked-for `after`, oldest first (only the last `keep` when the
    /// browser asked for a tail and more arrived).
    pub lines: Vec<LogLineView>,
    /// Lines were skipped between `after` and `lines` (the tail jumped ahead).
    pub skipped: bool,
}

/// A project's integration as its admins see it: whether secrets are set, never them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationData {
    pub repo: String,
    pub api_base: String,
    pub clone_url: String,
    pub master_branches: Vec<String>,
    pub commanders: Vec<String>,
    pub definition: Option<String>,
    pub concurrency: i64,
    pub reconcile_every_s: i64,
    pub webhook_secret_set: bool,
    /// `token`, `app` or `none`.
    pub reporting: String,
    pub app_id: Option<i64>,
    pub installation_id: Option<i64>,
}

/// The integration page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationPage {
    pub slug: String,
    pub integration: Option<IntegrationData>,
    /// Where GitHub sends the webhook.
    pub webhook_url: String,
}

/// The project page's job panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectJobs {
    pub last_master: Option<JobSummary>,
    /// The newest job of each PR among the project's recent jobs, newest PR first.
    pub prs: Vec<JobSummary>,
    pub has_integration: bool,
    pub is_admin: bool,
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::store::perf_jobs::{LogLine, PerfJobRow};
    use perfwatch_backend::{Store, StoreError};

    use super::{JobSummary, LogLineView, StepView};

    pub use crate::api_triage::server::{actor, map_err, store};

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
    pub async fn job_with_right(
        store: &Store,
        id: i64,
        right: Right,
    ) -> Result<PerfJobRow, ServerFnError> {
        let job = store.perf_job(id).await.map_err(map_err)?;
        actor()
            .require(right, Some(job.project_id))
            .map_err(map_err)?;
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
}

#[server(prefix = "/fn", endpoint = "jobs_queue")]
pub async fn fetch_queue() -> Result<QueuePage, ServerFnError> {
    let store = server::store()?;
    let q = perfwatch_backend::perf::enqueue::queue_view(&store)
        .await
        .map_err(server::map_err)?;
    let mut slugs = server::Slugs::default();
    let mut queued = Vec::with_capacity(q.queued.len());
    for e in &q.queued {
        let slug = slugs
            .get(&store, e.job.project_id)
            .await
            .map_err(server::map_err)?;
        queued.push(QueuedEntry {
            position: e.position,
            eta_ms: e.eta_ms,
            job: server::summary(&e.job, &slug),
        });
    }
    let mut running = Vec::with_capacity(q.running.len());
    for j in &q.running {
        let slug = slugs
            .get(&store, j.project_id)
            .await
            .map_err(server::map_err)?;
        let (tail, _) = server::lines_after(&store, j.id, 0, QUEUE_TAIL, QUEUE_TAIL)
            .await
            .map_err(server::map_err)?;
        running.push(RunningEntry {
            job: server::summary(j, &slug),
            tail,
        });
    }
    Ok(QueuePage {
        queued,
        running,
        typical_ms: q.typical_ms,
        last_runner_beat: q.last_runner_beat,
        now: perfwatch_backend::time::now_ms(),
    })
}

#[server(prefix = "/fn", endpoint = "job_page")]
pub async fn fetch_job_page(id: i64) -> Result<JobPage, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    let store = server::store()?;
    let j = store.perf_job(id).await.map_err(server::map_err)?;
    let slug = store
        .project_slug_of(j.project_id)
        .await
        .map_err(server::map_err)?;
    let integration = store
        .github_integration(j.project_id)
        .await
        .map_err(server::map_err)?;
    let mut log = store
        .perf_job_logs(id, 0, PAGE_LOG_LIMIT + 1)
        .await
        .map_err(server::map_err)?;
    let log_cut = log.len() as i64 > PAGE_LOG_LIMIT;
    log.truncate(PAGE_LOG_LIMIT as usize);
    let pr_url = match (&integration, j.pr_number) {
        (Some(i), Some(n)) => Some(format!("https://github.com/{}/pull/{n}", i.repo)),
        _ => None,
    };
    let marks = store.run_marks(&j.run_ids).await.map_err(server::map_err)?;
    let mut invalid_runs: Vec<(i64, String)> = marks
        .into_iter()
        .filter_map(|(id, m)| Some((id, m.invalid_reason?)))
        .collect();
    invalid_runs.sort_unstable();
    let compare_url = j.base_sha.as_ref().map(|b| {
        format!(
            "/projects/{slug}/compare?base=commit:{b}&head=commit:{}",
            j.sha
        )
    });
    Ok(JobPage {
        job: server::summary(&j, &slug),
        head_ref: j.head_ref.clone(),
        repeats: j.repeats,
        definition_hash: j.definition_hash.clone(),
        testbed: j.testbed.clone(),
        waits_for: j.waits_for,
        run_ids: j.run_ids.clone(),
        invalid_runs,
        report: j.report.clone(),
        steps: server::steps(j.output.as_deref()),
        log: log.into_iter().map(server::line).collect(),
        log_cut,
        pr_url,
        compare_url,
        can_triage: server::actor().can(Right::Triage, Some(j.project_id)),
    })
}

/// The job's state and its log lines after `after` (`keep` > 0: only the last `keep`).
#[server(prefix = "/fn", endpoint = "job_live")]
pub async fn fetch_job_live(id: i64, after: i64, keep: i64) -> Result<JobLive, ServerFnError> {
    let store = server::store()?;
    let j = store.perf_job(id).await.map_err(server::map_err)?;
    let (lines, skipped) = server::lines_after(&store, id, after.max(0), keep.clamp(0, 500), 500)
        .await
        .map_err(server::map_err)?;
    Ok(JobLive {
        state: j.state.as_str().to_string(),
        lines,
        skipped,
    })
}

/// Cancels a job (triage right on its project): a queued job ends, a running one is
/// asked to stop. Answers whether anything changed.
#[server(prefix = "/fn", endpoint = "cancel_perf_job")]
pub async fn cancel_perf_job(id: i64) -> Result<bool, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    let store = server::store()?;
    let job = server::job_with_right(&store, id, Right::Triage).await?;
    let n = perfwatch_backend::perf::enqueue::cancel_job(&store, &job, &server::actor().label())
        .await
        .map_err(server::map_err)?;
    let audit = crate::api_triage::server::audit();
    let details = serde_json::json!({ "canceled": n });
    store
        .audit_after(audit.entry("job.cancel", format!("jobs/{id}/cancel"), details))
        .await;
    Ok(n)
}

/// Queues a job for any commit of a project (triage right on it), as a PR's
/// head when `pr` is given; answers its id.
#[server(prefix = "/fn", endpoint = "queue_perf_job")]
pub async fn queue_perf_job(
    project: String,
    commit: String,
    pr: String,
) -> Result<i64, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::perf::enqueue::{manual, ManualRequest};
    let store = server::store()?;
    let p = store
        .project(project.trim())
        .await
        .map_err(server::map_err)?;
    let actor = server::actor();
    actor
        .require(Right::Triage, Some(p.id))
        .map_err(server::map_err)?;
    let pr = match pr.trim() {
        "" => None,
        n => Some(
            n.trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| ServerFnError::new("pr: expected a pull request number"))?,
        ),
    };
    let req = ManualRequest {
        commit: commit.trim().to_string(),
        pr,
        ..ManualRequest::default()
    };
    let id = manual(&store, &p.slug, &req, &actor.label())
        .await
        .map_err(server::map_err)?;
    let audit = crate::api_triage::server::audit();
    let details = serde_json::json!({ "id": id, "commit": req.commit, "pr": req.pr });
    store
        .audit_after(audit.entry("job.enqueue", format!("projects/{}/jobs", p.slug), details))
        .await;
    Ok(id)
}

/// Queues a new job doing the same (triage right on its project); answers its id.
#[server(prefix = "/fn", endpoint = "rerun_perf_job")]
pub async fn rerun_perf_job(id: i64) -> Result<i64, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    let store = server::store()?;
    let job = server::job_with_right(&store, id, Right::Triage).await?;
    let new = perfwatch_backend::perf::deliveries::rerun(&store, &job, &server::actor().label())
        .await
        .map_err(server::map_err)?;
    let audit = crate::api_triage::server::audit();
    let details = serde_json::json!({ "id": new });
    store
        .audit_after(audit.entry("job.rerun", format!("jobs/{id}/rerun"), details))
        .await;
    Ok(new)
}

#[cfg(feature = "ssr")]
fn integration_data(v: perfwatch_backend::perf::IntegrationView) -> IntegrationData {
    IntegrationData {
        repo: v.repo,
        api_base: v.api_base,
        clone_url: v.clone_url,
        master_branches: v.master_branches,
        commanders: v.commanders,
        definition: v.definition,
        concurrency: v.concurrency,
        reconcile_every_s: v.reconcile_every_s,
        webhook_secret_set: v.webhook_secret_set,
        reporting: v.reporting,
        app_id: v.app_id,
        installation_id: v.installation_id,
    }
}

/// A project's integration settings (admins of the project), without secrets.
#[server(prefix = "/fn", endpoint = "integration_page")]
pub async fn fetch_integration(slug: String) -> Result<IntegrationPage, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    let store = server::store()?;
    let project = store.project(&slug).await.map_err(server::map_err)?;
    server::actor()
        .require(Right::Admin, Some(project.id))
        .map_err(server::map_err)?;
    let view = perfwatch_backend::perf::integration::view(&store, &slug)
        .await
        .map_err(server::map_err)?;
    Ok(IntegrationPage {
        slug,
        integration: view.map(integration_data),
        webhook_url: format!("{}/api/v1/github/webhook", server::request_origin()),
    })
}

pub use save::*;

/// The save function takes one argument per form field.
mod save {
    #![allow(clippy::too_many_arguments)]
    #[cfg(feature = "ssr")]
    use super::server;
    use leptos::prelude::*;

    /// Saves the integration form (admins of the project). Secret fields left empty keep
    /// the stored value; other fields replace it.
    #[server(prefix = "/fn", endpoint = "save_integration")]
    pub async fn save_integration(
        slug: String,
        repo: String,
        webhook_secret: String,
        token: String,
        app_id: String,
        installation_id: String,
        app_private_key: String,
        api_base: String,
        clone_url: String,
        master_branches: String,
        commanders: String,
        definition: String,
        concurrency: String,
        reconcile_every_s: String,
    ) -> Result<(), ServerFnError> {
        use perfwatch_backend::accounts::Right;
        use perfwatch_backend::perf::IntegrationInput;
        use perfwatch_backend::secrets::SealKey;
        let store = server::store()?;
        let project = store.project(&slug).await.map_err(server::map_err)?;
        server::actor()
            .require(Right::Admin, Some(project.id))
            .map_err(server::map_err)?;
        let key = use_context::<SealKey>()
            .ok_or_else(|| ServerFnError::new("the sealing key is not configured"))?;
        let text = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let number = |field: &str, s: String| -> Result<Option<i64>, ServerFnError> {
            text(s)
                .map(|t| {
                    t.parse::<i64>().map_err(|_| {
                        ServerFnError::new(format!("{field}: expected a whole number"))
                    })
                })
                .transpose()
        };
        let list = |s: String| -> Vec<String> {
            s.split([',', '\n', ' '])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let input = IntegrationInput {
            repo: repo.trim().to_string(),
            webhook_secret: text(webhook_secret),
            token: text(token),
            app_id: number("app_id", app_id)?,
            installation_id: number("installation_id", installation_id)?,
            app_private_key: text(app_private_key),
            api_base: text(api_base),
            clone_url: text(clone_url),
            master_branches: text(master_branches.clone()).map(|_| list(master_branches)),
            commanders: Some(list(commanders)),
            // An empty definition clears the fallback (the commit's file is then required).
            definition: Some(definition),
            concurrency: number("concurrency", concurrency)?,
            reconcile_every_s: number("reconcile_every_s", reconcile_every_s)?,
        };
        // Which fields were sent, never their values (secrets among them).
        let fields: Vec<&str> = [
            ("repo", true),
            ("webhook_secret", input.webhook_secret.is_some()),
            ("token", input.token.is_some()),
            ("app_id", input.app_id.is_some()),
            ("installation_id", input.installation_id.is_some()),
            ("app_private_key", input.app_private_key.is_some()),
            ("api_base", input.api_base.is_some()),
            ("clone_url", input.clone_url.is_some()),
            ("master_branches", input.master_branches.is_some()),
            ("commanders", true),
            ("definition", true),
            ("concurrency", input.concurrency.is_some()),
            ("reconcile_every_s", input.reconcile_every_s.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, sent)| sent.then_some(f))
        .collect();
        perfwatch_backend::perf::integration::put(&store, &key, &slug, input)
            .await
            .map_err(server::map_err)?;
        let audit = crate::api_triage::server::audit();
        let details = serde_json::json!({ "fields": fields });
        store
            .audit_after(audit.entry(
                "github.integration",
                format!("projects/{slug}/github"),
                details,
            ))
            .await;
        Ok(())
    }
}

/// The project page's job panel: the last master job and the newest job of each PR
/// among the last 50 jobs (PRs whose newest job was canceled count as closed).
#[server(prefix = "/fn", endpoint = "project_jobs")]
pub async fn fetch_project_jobs(slug: String) -> Result<ProjectJobs, ServerFnError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::store::perf_jobs::{PerfState, Purpose};
    let store = server::store()?;
    let project = store.project(&slug).await.map_err(server::map_err)?;
    let has_integration = store
        .github_integration(project.id)
        .await
        .map_err(server::map_err)?
        .is_some();
    let jobs = store
        .perf_jobs(Some(project.id), None, &[], 50)
        .await
        .map_err(server::map_err)?;
    let last_master = jobs
        .iter()
        .find(|j| j.purpose == Purpose::Master)
        .map(|j| server::summary(j, &slug));
    let mut seen = std::collections::HashSet::new();
    let prs = jobs
        .iter()
        .filter(|j| j.pr_number.is_some_and(|n| seen.insert(n)))
        .filter(|j| j.state != PerfState::Canceled)
        .map(|j| server::summary(j, &slug))
        .collect();
    Ok(ProjectJobs {
        last_master,
        prs,
        has_integration,
        is_admin: server::actor().can(Right::Admin, Some(project.id)),
    })
}
