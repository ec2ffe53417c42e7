//! Read-side types: what the API returns and the pages show. Shared by the server and
//! the browser build, so they live here and not in the backend.

use serde::{Deserialize, Serialize};

use crate::units::Direction;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub main_branch: String,
    pub repo_url: Option<String>,
    pub series_count: i64,
    pub run_count: i64,
    /// Milliseconds since the epoch.
    pub last_run_at: Option<i64>,
}

/// A project's own row, without the counts [`ProjectInfo`] adds: a page that names its
/// project (the series page) must not count a million runs to do so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub main_branch: String,
    pub repo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesInfo {
    pub id: i64,
    pub project: String,
    pub benchmark: String,
    pub measure: String,
    /// Canonical unit the values are in.
    pub unit: String,
    /// Unit as the harness printed it.
    pub display_unit: String,
    pub direction: Direction,
    pub testbed: String,
    /// `k=v,k=v`, empty when none.
    pub params: String,
}

impl SeriesInfo {
    /// `benchmark [params] · measure · testbed`, for titles.
    pub fn label(&self) -> String {
        let params = if self.params.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.params)
        };
        format!(
            "{}{} · {} · {}",
            self.benchmark, params, self.measure, self.testbed
        )
    }
}

/// One row of a project page: a series, its latest value and recent shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesOverview {
    pub series: SeriesInfo,
    pub latest: Option<f64>,
    /// Latest against the median of the points before it, in percent.
    pub change_pct: Option<f64>,
    /// Up to the last 60 medians, oldest first.
    pub spark: Vec<f64>,
}

/// One point on a trend chart: one run's measurement of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Point {
    pub run_id: i64,
    /// Order of the commit on its branch, when the run has a commit.
    pub ord: Option<i64>,
    /// Run start (or commit time), ms since the epoch.
    pub time: i64,
    pub sha: Option<String>,
    pub branch: Option<String>,
    pub n: i64,
    pub median: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Why the run is invalid (the load runner's validity gate, `runs.invalid_reason`),
    /// as readable text; `None` for a valid run. Invalid points are drawn apart from
    /// the line and left out of detection and comparisons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
}

/// A release, deploy, infra change or note, placed on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Marker {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub sha: Option<String>,
    /// Order of the marker's commit on the branch shown, if it is on it.
    pub ord: Option<i64>,
    pub time: i64,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitInfo {
    pub sha: String,
    pub parent: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub time: Option<i64>,
    /// Link to the commit in the project's repository, when its URL is known.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasurementView {
    pub series: SeriesInfo,
    pub n: i64,
    pub median: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub stddev: f64,
    pub samples: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDetail {
    pub id: i64,
    pub project: String,
    pub branch: Option<String>,
    pub commit: Option<CommitInfo>,
    pub testbed: String,
    pub run_key: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub trigger: Option<String>,
    pub metadata: serde_json::Value,
    /// Why the run is invalid (its metadata says `"valid": false`), the reasons joined
    /// by `; `; `None` for a valid run. An invalid run is left out of detection,
    /// baselines and comparisons.
    #[serde(default)]
    pub invalid_reason: Option<String>,
    pub measurements: Vec<MeasurementView>,
}

/// One row of a run list (a project's recent runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunBrief {
    pub id: i64,
    pub branch: Option<String>,
    pub sha: Option<String>,
    pub testbed: String,
    /// Milliseconds since the epoch.
    pub started_at: i64,
    /// Why the run is invalid, readable; `None` for a valid run.
    #[serde(default)]
    pub invalid_reason: Option<String>,
}

/// What a stored run submission answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReceipt {
    pub run_id: i64,
    /// True when a run with the same `run_key` was already stored: nothing new was written.
    pub duplicate: bool,
    pub series: usize,
    pub url: String,
}
