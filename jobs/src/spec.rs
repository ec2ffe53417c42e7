//! What the backend asks a worker to run.

use std::path::PathBuf;

/// The definition file read at the head commit.
pub const DEFINITION_FILE: &str = ".perfwatch.toml";

/// One job: a repository, a head commit and, for interleaved jobs, a base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// Clone URL, or a local path / `file://` URL.
    pub repo_url: String,
    /// Where bare mirrors live (one per repository, kept between jobs).
    pub mirrors_dir: PathBuf,
    /// Where this job's checkouts are made (a fresh directory, removed at the end).
    pub work_root: PathBuf,
    pub head_sha: String,
    /// The comparison side, run in the same job when the definition says `interleave`.
    pub base_sha: Option<String>,
    /// The project's stored definition, used when the commit has no `.perfwatch.toml`.
    pub fallback_definition: Option<String>,
    /// `repeats` from a command (`/perfwatch run repeats=N`), 1..=50.
    pub repeats_override: Option<u32>,
    /// Run the base side in this job even when the definition does not interleave
    /// (confirming a master regression re-runs both sides together).
    pub force_interleave: bool,
}
