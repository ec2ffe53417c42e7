//! Read types of a run's baseline comparison (`GET /api/v1/runs/{id}/baseline`): which
//! earlier main-branch results a run is compared with, and the key of each row. The
//! statistics themselves (verdicts, summary) come from `perfwatch-compare`.

use serde::{Deserialize, Serialize};

/// How the baseline commit of a run was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BaselineRule {
    /// The run is on the main branch: the commits before it on main.
    PreviousOnMain,
    /// The run's commit's parent is on main: that commit and earlier ones.
    Parent,
    /// The parent is not known on main: main commits made no later than the run's commit.
    CommitTime,
    /// Nothing better is known: the newest main commits.
    LatestOnMain,
    /// The run has no commit: main-branch runs started before it.
    EarlierInTime,
}

/// Where the base samples of a run's comparison come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BaselineInfo {
    /// The project's main branch.
    pub branch: String,
    pub rule: BaselineRule,
    /// The commit the search starts from (the parent, or the run's own commit on main).
    pub reference: Option<String>,
    /// Highest order on main considered (inclusive), when commit-ordered.
    pub max_ord: Option<i64>,
    /// Distinct base commits the rows use, newest first (a series without results at
    /// the nearest commit falls back to an earlier one).
    pub commits: Vec<String>,
}

/// The series one row of a baseline comparison is about, and where its base came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BaselineKey {
    pub series_id: i64,
    pub benchmark: String,
    pub measure: String,
    /// `k=v,k=v`, empty when none.
    pub params: String,
    pub testbed: String,
    /// Canonical unit of the medians.
    pub unit: String,
    /// Base commit of this row, when a base was found.
    pub base_sha: Option<String>,
    /// Runs whose samples make up the base.
    pub base_runs: Vec<i64>,
}
