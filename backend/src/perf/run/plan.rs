//! The baseline a job is measured against, decided before anything runs: PR jobs
//! compare with the master set at the merge-base unless the definition interleaves the
//! base in the job itself; a missing master set is queued as a backfill and waited for.

use std::path::Path;

use perfwatch_jobs::definition::{DefinitionError, JobDefinition};
use perfwatch_jobs::git::Mirror;
use perfwatch_jobs::runner::JobError;
use perfwatch_jobs::GitError;

use super::Execution;
use crate::store::github::IntegrationRow;
use crate::store::perf_jobs::{NewPerfJob, Purpose};
use crate::time::now_ms;

/// What to measure the head against.
pub(super) enum Plan {
    Run(Baseline),
    /// Wait for the master-set job `0` at the base.
    Wait(i64),
}

/// The base commit, if any, and whether its side runs in this job (ABAB).
pub(super) struct Baseline {
    pub(super) base: Option<String>,
    pub(super) interleave: bool,
}

impl Baseline {
    fn separate(base: Option<String>) -> Plan {
        Plan::Run(Self {
            base,
            interleave: false,
        })
    }

    fn interleaved(base: Option<String>) -> Plan {
        Plan::Run(Self {
            base,
            interleave: true,
        })
    }
}

/// Where the base is read from, decided from the job alone.
enum BaseSource {
    /// The job has no base (a master-set job, or a PR whose project has no master branch).
    None,
    /// The commit given (a PR's base, a manual job's `base`).
    Commit(String),
    /// The head of this master branch (a PR queued by hand without its base).
    BranchHead(String),
}

/// What the mirror says about the job's head.
struct AtHead {
    /// Its `.perfwatch.toml`, if it has one.
    definition: Option<String>,
    /// The commit its base side is measured at.
    base: Option<String>,
}

impl Execution<'_> {
    /// Decides the baseline (see the module docs).
    pub(super) async fn plan(
        &self,
        integ: &IntegrationRow,
        mirror_dir: &Path,
    ) -> Result<Plan, JobError> {
        if self.job.purpose == Purpose::Confirm {
            // Both sides run here, interleaved: no merge-base, no master set to wait for.
            return Ok(Baseline::interleaved(self.job.base_sha.clone()));
        }
        let head = self.read_mirror(integ, mirror_dir).await?;
        let def = definition_of(head.definition, integ)?;
        let Some(base) = head.base else {
            return Ok(Baseline::separate(None));
        };
        if def.interleave {
            return Ok(Baseline::interleaved(Some(base)));
        }
        self.master_set_plan(integ, base, &def.hash()).await
    }

    fn base_source(&self, integ: &IntegrationRow) -> BaseSource {
        let job = &self.job;
        match &job.base_sha {
            Some(b) if matches!(job.purpose, Purpose::Pr | Purpose::Manual) => {
                BaseSource::Commit(b.clone())
            }
            None if job.purpose == Purpose::Pr => integ
                .master_branches
                .first()
                .map_or(BaseSource::None, |b| BaseSource::BranchHead(b.clone())),
            _ => BaseSource::None,
        }
    }

    /// Fetches the mirror; reads the head's `.perfwatch.toml` and its base. A PR is
    /// compared where it branched off; a manual job (`/perfwatch compare <sha>`, the
    /// API's `base`) with exactly the commit asked for.
    async fn read_mirror(
        &self,
        integ: &IntegrationRow,
        mirror_dir: &Path,
    ) -> Result<AtHead, JobError> {
        let (dir, url, sha) = (
            mirror_dir.to_path_buf(),
            integ.clone_url.clone(),
            self.job.sha.clone(),
        );
        let source = self.base_source(integ);
        let exact = self.job.purpose == Purpose::Manual;
        tokio::task::spawn_blocking(move || {
            let mirror = Mirror::open(&dir, &url)?;
            mirror.fetch()?;
            Ok::<_, GitError>(AtHead {
                definition: mirror.file_at(&sha, ".perfwatch.toml")?,
                base: base_of(&mirror, &sha, source, exact)?,
            })
        })
        .await
        .map_err(|e| JobError::Io(e.to_string()))?
        .map_err(JobError::Git)
    }

    /// The plan against the master set at `base` with the same definition: run when it
    /// exists, else wait for the one being measured, else queue a backfill.
    async fn master_set_plan(
        &self,
        integ: &IntegrationRow,
        base: String,
        hash: &str,
    ) -> Result<Plan, JobError> {
        let (store, project_id) = (self.store, self.job.project_id);
        if self.job.base_sha.as_deref() != Some(base.as_str()) {
            let _ = store.perf_job_set_base(self.job.id, &base).await;
        }
        let have = store
            .perf_master_set(project_id, &base, hash)
            .await
            .ok()
            .flatten();
        if have.is_some() {
            return Ok(Baseline::separate(Some(base)));
        }
        if let Ok(Some(pending)) = store.perf_master_pending(project_id, &base).await {
            return Ok(Plan::Wait(pending));
        }
        // A backfill that already ended without results: run anyway; the verdict says
        // there is no baseline.
        if self.backfill_ended(&base).await {
            return Ok(Baseline::separate(Some(base)));
        }
        self.queue_backfill(integ, base).await
    }

    /// Whether the backfill this job waited for, at `base`, has ended.
    async fn backfill_ended(&self, base: &str) -> bool {
        let Some(w) = self.job.waits_for else {
            return false;
        };
        match self.store.perf_job(w).await {
            Ok(j) => j.sha == base && j.state.is_final(),
            Err(_) => false,
        }
    }

    /// Queues the master-set job at `base` this job then waits for.
    async fn queue_backfill(&self, integ: &IntegrationRow, base: String) -> Result<Plan, JobError> {
        let backfill = NewPerfJob {
            project_id: self.job.project_id,
            purpose: Purpose::Backfill,
            sha: base,
            branch: integ.master_branches.first().cloned(),
            head_ref: integ.master_branches.first().cloned(),
            pr_number: None,
            base_sha: None,
            repeats: 0,
            requested_by: format!("baseline of job {}", self.job.id),
        };
        match self.store.perf_job_create(&backfill, false, now_ms()).await {
            Ok((id, _)) => Ok(Plan::Wait(id)),
            Err(e) => Err(JobError::Io(format!("queueing the baseline: {e}"))),
        }
    }
}

/// The base commit in the mirror: where `sha` branched off from the source's commit,
/// or (`exact`) that commit itself.
fn base_of(
    mirror: &Mirror,
    sha: &str,
    source: BaseSource,
    exact: bool,
) -> Result<Option<String>, GitError> {
    let given = match source {
        BaseSource::Commit(b) => b,
        BaseSource::BranchHead(branch) => mirror.branch_head(&branch)?,
        BaseSource::None => return Ok(None),
    };
    let base = if exact {
        mirror.resolve(&given)?
    } else {
        mirror.merge_base(sha, &given)?
    };
    Ok(Some(base))
}

/// The job's definition: the head's `.perfwatch.toml`, else the project's fallback.
fn definition_of(file: Option<String>, integ: &IntegrationRow) -> Result<JobDefinition, JobError> {
    let text =
        match file.or_else(|| integ.definition.clone()) {
            Some(t) => t,
            None => return Err(JobError::Definition(DefinitionError::general(
                ".perfwatch.toml",
                "the commit has no .perfwatch.toml and the project stores no fallback definition",
            ))),
        };
    perfwatch_jobs::definition::parse(&text).map_err(JobError::Definition)
}
