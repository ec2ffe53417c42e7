//! The read model of a comparison: rows, summaries and the resolved sides, as the
//! page, the JSON export and the CLI show them.

use serde::{Deserialize, Serialize};

use super::spec::{CompareSpec, SideSpec};
use crate::chart::encode;
use crate::view::SeriesInfo;

/// The outcome of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    Regression,
    Improvement,
    NoChange,
    /// Too few samples to ever be significant (see `CompareRow::needed`).
    NotEnoughSamples,
    Added,
    Removed,
}

impl RowVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no_change",
            Self::NotEnoughSamples => "not_enough_samples",
            Self::Added => "added",
            Self::Removed => "removed",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no change",
            Self::NotEnoughSamples => "inconclusive",
            Self::Added => "added",
            Self::Removed => "removed",
        }
    }
    pub fn is_significant(self) -> bool {
        matches!(self, Self::Regression | Self::Improvement)
    }
    pub(super) fn rank(self) -> u8 {
        match self {
            Self::Regression => 0,
            Self::Improvement => 1,
            Self::NotEnoughSamples => 2,
            Self::NoChange => 3,
            Self::Added => 4,
            Self::Removed => 5,
        }
    }
}

/// Median of one side with its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideSummary {
    pub n: usize,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Actual coverage of the interval.
    pub confidence: f64,
}

/// One series of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompareRow {
    pub series: SeriesInfo,
    /// Benchmark suite (geomean group).
    pub group: String,
    pub base: Option<SideSummary>,
    pub head: Option<SideSummary>,
    /// Estimated change in % (Hodges–Lehmann) and its interval.
    pub change_pct: Option<f64>,
    pub change_low: Option<f64>,
    pub change_high: Option<f64>,
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg adjusted p.
    pub p_adjusted: Option<f64>,
    pub verdict: RowVerdict,
    /// Samples per side needed for a verdict, when `NotEnoughSamples`.
    pub needed: Option<usize>,
    pub notes: Vec<String>,
    /// Raw pooled samples (for the dot strip).
    pub base_samples: Vec<f64>,
    pub head_samples: Vec<f64>,
    /// Typical run-to-run variation of the series on the main branch, ±% (σ of one
    /// run's level), when its history is long enough.
    #[serde(default)]
    pub noise_pct: Option<f64>,
    /// When the verdict compares run levels against that noise: runs per side and the
    /// smallest change that counts (%); `needed` then counts runs per side.
    #[serde(default)]
    pub run_basis: Option<RunBasis>,
}

/// How a run-level verdict was reached (see docs/statistics.md, "Few samples").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunBasis {
    pub base_runs: usize,
    pub head_runs: usize,
    /// Noise fence: max(minimum change, 1.5 × run-to-run variation), in %.
    pub fence_pct: f64,
}

/// Geometric mean of head/base median ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeomeanSummary {
    pub group: String,
    pub series: usize,
    /// `(ratio − 1)·100`, head vs base.
    pub change_pct: Option<f64>,
    /// Direction-aware: > 0 means head is better overall.
    pub better_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompareSummary {
    pub total: usize,
    pub regressions: usize,
    pub improvements: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
    pub added: usize,
    pub removed: usize,
    pub geomean: GeomeanSummary,
    pub groups: Vec<GeomeanSummary>,
}

/// What one side resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideInfo {
    pub spec: SideSpec,
    /// For people: `branch feature-x at 1a2b3c4d5e (3 runs)`.
    pub label: String,
    pub runs: Vec<i64>,
    pub commits: Vec<String>,
    pub branch: Option<String>,
    /// Earliest and latest run start (ms), for the chart link.
    pub from_time: Option<i64>,
    pub to_time: Option<i64>,
}

/// A whole comparison: the read model of the page, the JSON export and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonView {
    pub project: String,
    pub main_branch: String,
    /// The request, with the base filled in when it was defaulted.
    pub spec: CompareSpec,
    /// True when the base was chosen by default (merge-base of a branch).
    pub base_defaulted: bool,
    pub base: SideInfo,
    pub head: SideInfo,
    /// Over every series compared (filters do not change it).
    pub summary: CompareSummary,
    /// Rows after filters and sort.
    pub rows: Vec<CompareRow>,
    /// Rows before filters.
    pub total_rows: usize,
    /// Filter choices: every measure and testbed compared.
    pub measures: Vec<String>,
    pub testbeds: Vec<String>,
}

impl ComparisonView {
    /// The series page of a row with the time range around both sides.
    pub fn series_link(&self, row: &CompareRow) -> String {
        let times = [
            self.base.from_time,
            self.base.to_time,
            self.head.from_time,
            self.head.to_time,
        ];
        let lo = times.iter().flatten().min().copied();
        let hi = times.iter().flatten().max().copied();
        let mut q = format!("/series/{}?x=time", row.series.id);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let pad = ((hi - lo) / 4).max(86_400_000);
            q.push_str(&format!("&from={}&to={}", lo - pad, hi + pad));
        }
        if let Some(b) = self
            .head
            .branch
            .as_ref()
            .filter(|b| **b != self.main_branch)
        {
            q.push_str(&format!("&branches={}", encode(b)));
        }
        // Ring both sides' points on the chart.
        let runs: Vec<String> = self
            .base
            .runs
            .iter()
            .chain(&self.head.runs)
            .take(200)
            .map(|r| r.to_string())
            .collect();
        if !runs.is_empty() {
            q.push_str(&format!("&highlight={}", runs.join(",")));
        }
        q
    }
}

/// One release against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseStep {
    pub name: String,
    pub previous: Option<String>,
    pub at: i64,
    /// Compare-page query string (`base=release:…&head=release:…`).
    pub query: Option<String>,
    pub summary: Option<CompareSummary>,
    /// Why there is no comparison (first release, no results at its commit…).
    pub note: Option<String>,
}

/// Median and interval of one series at one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasePoint {
    pub release: String,
    pub at: i64,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
}

/// Release-over-release view of a project, and per-release medians of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasesView {
    pub project: crate::view::ProjectInfo,
    pub steps: Vec<ReleaseStep>,
    pub series: Vec<SeriesInfo>,
    pub chosen: Option<SeriesInfo>,
    pub points: Vec<ReleasePoint>,
}
