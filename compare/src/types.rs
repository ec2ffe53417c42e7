//! Input and output records of a comparison. All serde, since they travel to the
//! Leptos UI and the JSON/CSV API. No field is ever NaN or ±∞: anything that cannot
//! be computed is `None`, with a [`Note`] saying why.

use crate::geomean::{Geomean, GroupGeomean};
use crate::hodges_lehmann::ShiftEstimate;
use crate::mann_whitney::PMethod;
use crate::run_level::RunTest;
use crate::verdict::Verdict;
use perfwatch_core::Direction;
use serde::{Deserialize, Serialize};

/// One series to compare. `None` on a side means the series does not exist there
/// (→ Added / Removed); `Some(vec![])` means it exists without usable samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesInput<K> {
    pub key: K,
    /// Benchmark suite (or any caller-chosen key) for the per-group geomean.
    pub group: String,
    pub direction: Direction,
    pub base: Option<Vec<f64>>,
    pub head: Option<Vec<f64>>,
}

/// Median of one side with its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideStats {
    /// Finite samples used.
    pub n: usize,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Actual coverage of `[ci_low, ci_high]`; below the requested level when the
    /// side has too few samples (then the interval is [min, max]).
    pub confidence: f64,
}

/// A two-sided interval with its coverage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
}

/// How the relative change was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeMethod {
    /// Hodges–Lehmann on ln values: ratio = exp(median of ln head_j − ln base_i).
    /// Used whenever every sample is positive.
    LogRatio,
    /// Hodges–Lehmann shift divided by |base median|; used when some sample is ≤ 0.
    ShiftOverBaseMedian,
}

/// Something the reader should know about a series' figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// NaN/±∞ samples were skipped.
    NonFiniteDropped { base: usize, head: usize },
    /// Some sample is ≤ 0, so the change is the shift relative to the base median.
    RelativeToBaseMedian,
    /// The base median is 0 (or the ratio overflowed): no ratio or %; the verdict
    /// uses the sign of the absolute shift.
    RatioUndefined,
    /// An interval could not reach the requested confidence with these sample sizes;
    /// its `confidence` field gives what it does reach.
    LowConfidenceInterval,
    /// The verdict compares run levels against the series' run-to-run noise on the
    /// main branch (see `SeriesComparison::run_test`); p, change and its interval
    /// are that test's.
    RunLevel,
    /// The change is smaller than the noise fence (twice the run-to-run variation, or
    /// the minimum change): no change, however many runs.
    WithinNoise,
}

/// The comparison of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesComparison<K> {
    pub key: K,
    pub group: String,
    pub direction: Direction,
    /// `None`: absent on that side, or no finite samples (see `verdict`, `notes`).
    pub base: Option<SideStats>,
    pub head: Option<SideStats>,
    /// head median / base median (what the geomean uses).
    pub median_ratio: Option<f64>,
    /// Estimated head/base ratio (Hodges–Lehmann, see `change_method`).
    pub ratio: Option<f64>,
    /// `(ratio − 1)·100`.
    pub change_pct: Option<f64>,
    /// Interval of `change_pct`, in %.
    pub change_ci: Option<Interval>,
    pub change_method: Option<ChangeMethod>,
    /// Hodges–Lehmann shift head − base in the measure's unit, with Moses' interval.
    pub shift: Option<ShiftEstimate>,
    /// Two-sided Mann–Whitney p-value.
    pub p_value: Option<f64>,
    pub p_method: Option<PMethod>,
    /// Benjamini–Hochberg adjusted p-value; `None` when the series is not in the FDR
    /// family (a side missing, or too few samples to ever be significant).
    pub p_adjusted: Option<f64>,
    /// p passes both `alpha` and the FDR level (whatever the size of the change).
    pub significant: bool,
    pub verdict: Verdict,
    pub notes: Vec<Note>,
    /// The run-level test, when the series' history was given.
    pub run_test: Option<RunTest>,
}

/// Totals and geomeans of a whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonSummary {
    pub total: usize,
    pub regressions: usize,
    pub improvements: usize,
    pub unchanged: usize,
    /// Series with `NotEnoughSamples`.
    pub inconclusive: usize,
    pub added: usize,
    pub removed: usize,
    /// One entry per group that has series on both sides, sorted by group.
    pub groups: Vec<GroupGeomean>,
    /// Over every series on both sides (not a mean of the group means).
    pub overall: Geomean,
}
