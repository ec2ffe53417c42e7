//! Public types of change-point detection: configuration, findings and errors.

use serde::{Deserialize, Serialize};

use crate::significance::SignificanceTest;

/// What the energy statistic is computed on while searching for splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyInput {
    /// Mid-ranks within the segment being split (the default). Bounded influence per
    /// point, exact integer arithmetic, invariant under any increasing transform.
    Ranks,
    /// The raw values, as in Matteson & James and Otava.
    Values,
}

/// Tuning of [`crate::detect`]. Defaults were chosen on the quality corpus
/// (docs/detection.md, `cargo run --release -p perfwatch-detect --example detect_quality`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectConfig {
    /// Fewest points a segment may hold: a change is reported at the earliest
    /// `min_segment` points after it happened, and never closer than this to another.
    pub min_segment: usize,
    /// Largest two-sample p-value (adjacent segments) a change point may have.
    pub max_p_value: f64,
    /// Smallest |median_after / median_before − 1| a change point may have.
    pub min_relative_change: f64,
    /// Values the energy statistic is computed on.
    pub energy_input: EnergyInput,
    /// Test between the two segments adjacent to a candidate.
    pub test: SignificanceTest,
    /// Incremental runs re-examine from the last confirmed regime boundary at least this
    /// many points before the newest change point (see [`crate::detect_incremental`]).
    pub incremental_margin: usize,
    /// Explain runs of same-direction change points by a linear ramp where that fits
    /// better, reporting one [`Drift`] (or one change point for a short ramp) instead of
    /// a staircase (docs/detection.md, "Trends and ramps").
    pub trends: bool,
    /// Shortest ramp, in points, reported as a [`Drift`]; a shorter ramp is one change
    /// point at its middle (where the level has moved half-way).
    pub min_drift_span: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            min_segment: 5,
            max_p_value: 3e-4,
            min_relative_change: 0.01,
            energy_input: EnergyInput::Ranks,
            test: SignificanceTest::MannWhitney,
            incremental_margin: 100,
            trends: true,
            min_drift_span: 30,
        }
    }
}

impl DetectConfig {
    /// Points a series needs before anything can be detected.
    pub fn min_points(&self) -> usize {
        2 * self.min_segment
    }

    pub(crate) fn validate(&self) -> Result<(), DetectError> {
        let bad = |field: &'static str, reason: &'static str| {
            Err(DetectError::InvalidConfig { field, reason })
        };
        if self.min_segment < 3 {
            return bad("min_segment", "must be at least 3");
        }
        if !(self.max_p_value > 0.0 && self.max_p_value <= 1.0) {
            return bad("max_p_value", "must be in (0, 1]");
        }
        if !(self.min_relative_change >= 0.0 && self.min_relative_change.is_finite()) {
            return bad("min_relative_change", "must be finite and >= 0");
        }
        if self.min_drift_span < 2 {
            return bad("min_drift_span", "must be at least 2");
        }
        Ok(())
    }
}

/// One detected change: the series behaves differently from `index` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// First index of the new regime.
    pub index: usize,
    /// Start of the segment before the change (the previous change point, or 0).
    pub before_start: usize,
    /// End (exclusive) of the segment after the change (the next change point, or the length).
    pub after_end: usize,
    pub before_median: f64,
    pub after_median: f64,
    pub before_mean: f64,
    pub after_mean: f64,
    /// (after_median − before_median) / |before_median|; equals after/before − 1 for
    /// positive data. Saturates at ±f64::MAX when the before median is 0.
    pub relative_change: f64,
    /// after_median − before_median.
    pub absolute_change: f64,
    /// Two-sided p-value of the configured test between the adjacent segments. It is
    /// computed after the split was chosen, so it is smaller than an unselected test's
    /// would be; `max_p_value` is calibrated for that (docs/detection.md).
    pub p_value: f64,
    /// Energy statistic Q̂ of the adjacent segments (on ranks scaled to (0, 1] for
    /// [`EnergyInput::Ranks`], on raw values for [`EnergyInput::Values`]).
    pub energy: f64,
}

/// A gradual change: the level moves steadily from `start` to `end` instead of jumping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// First index of the ramp (the first point that has moved).
    pub start: usize,
    /// End (exclusive) of the ramp: the level is flat again from here, or this is the
    /// series length when the drift is still going on.
    pub end: usize,
    /// Change per point, in the series' unit (median of pairwise slopes, robust to
    /// outliers).
    pub slope: f64,
    /// Fitted level at `start` and at `end` (= start_level + slope · (end − start)).
    pub start_level: f64,
    pub end_level: f64,
    /// (end_level − start_level) / |start_level|, saturating like
    /// [`ChangePoint::relative_change`].
    pub relative_change: f64,
    /// end_level − start_level.
    pub absolute_change: f64,
    /// Two-sided p-value of a rank trend test (Spearman) over the ramp.
    pub p_value: f64,
    /// How many change points of the segmentation the drift replaced.
    pub replaced: usize,
}

/// Outcome of a detection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Detection {
    /// The series is shorter than `needed` points; nothing was examined.
    TooShort { needed: usize, got: usize },
    /// Change points in increasing index order (possibly none), and the drifts found
    /// where a staircase of change points was better explained by a ramp.
    Done {
        change_points: Vec<ChangePoint>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drifts: Vec<Drift>,
    },
}

impl Detection {
    /// The change points found, empty when the series was too short.
    pub fn change_points(&self) -> &[ChangePoint] {
        match self {
            Detection::TooShort { .. } => &[],
            Detection::Done { change_points, .. } => change_points,
        }
    }

    /// The drifts found, empty when the series was too short.
    pub fn drifts(&self) -> &[Drift] {
        match self {
            Detection::TooShort { .. } => &[],
            Detection::Done { drifts, .. } => drifts,
        }
    }

    /// The indices a change-point scorer should see, sorted: every change point, and the
    /// start and end of every drift that lie inside the series of `len` points (a drift
    /// from the first point or to the last one changes nothing there).
    pub fn scored_indices(&self, len: usize) -> Vec<usize> {
        let mut v: Vec<usize> = self.change_points().iter().map(|c| c.index).collect();
        for d in self.drifts() {
            v.extend([d.start, d.end].into_iter().filter(|&i| i > 0 && i < len));
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectError {
    #[error("value at index {index} is not finite")]
    NonFinite { index: usize },
    #[error("invalid detection config: {field} {reason}")]
    InvalidConfig {
        field: &'static str,
        reason: &'static str,
    },
    #[error("previous change point at index {index} is outside the series of {len} points")]
    PreviousOutOfRange { index: usize, len: usize },
}
