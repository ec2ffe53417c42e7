//! Change-point detection and threshold rules. Pure: numbers in, findings out.
//!
//! - [`detect`]: E-Divisive means (energy statistic, α = 1) with an O(n log n) scan per
//!   split, a two-sample test per split and pruning by p-value and relative change.
//! - [`detect_incremental`]: re-examines only the tail that new points can change.
//! - [`fdr`]: Benjamini–Hochberg across the change points of many series.
//! - [`threshold`]: static, percentage-vs-baseline and z-score rules.
//! - [`corpus`], [`corpus_trend`], [`score`]: the labelled quality corpora and
//!   TCPDBench-style scoring.
//! - [`table`], [`detect_with_gaps`]: series files (CSV/JSON) with missing points.
//!
//! The algorithm, defaults and measured quality are in docs/detection.md.

mod adjacent;
pub mod backtest;
pub mod band;
pub mod calendar;
mod config;
pub mod corpus;
pub mod corpus_trend;
pub mod deseason;
mod drift;
mod edivisive;
mod energy;
pub mod fdr;
mod fenwick;
mod gaps;
pub mod holidays;
mod incremental;
mod ranks;
pub mod rng;
pub mod score;
pub mod seasonal;
mod significance;
pub mod table;
pub mod threshold;

pub use adjacent::relative_change;
pub use config::{ChangePoint, DetectConfig, DetectError, Detection, Drift, EnergyInput};
pub use gaps::detect_with_gaps;
pub use incremental::{detect_incremental, incremental_window_start};
pub use significance::SignificanceTest;

/// Finds the change points of one series, in order.
///
/// Returns [`Detection::TooShort`] when the series has fewer than
/// [`DetectConfig::min_points`] points, and an error for a non-finite value or an
/// invalid configuration.
pub fn detect(values: &[f64], cfg: &DetectConfig) -> Result<Detection, DetectError> {
    cfg.validate()?;
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(DetectError::NonFinite { index });
    }
    let needed = cfg.min_points();
    if values.len() < needed {
        return Ok(Detection::TooShort {
            needed,
            got: values.len(),
        });
    }
    // Work on values scaled by a power of two into [-1, 1]: exact for normal-range data
    // (results are bit-identical), and sums of |xi − xj| cannot overflow near f64::MAX.
    let scale = power_of_two_scale(values);
    let scaled: Vec<f64> = values.iter().map(|v| v / scale).collect();
    let candidates = edivisive::segment(&scaled, cfg);
    let change_points = edivisive::prune(&scaled, candidates, &[], cfg);
    let (mut change_points, mut drifts) = drift::explain_trends(&scaled, change_points, cfg);
    for cp in &mut change_points {
        unscale(cp, scale, cfg.energy_input);
    }
    for d in &mut drifts {
        let back = |v: f64| (v * scale).clamp(f64::MIN, f64::MAX);
        d.slope = back(d.slope);
        d.start_level = back(d.start_level);
        d.end_level = back(d.end_level);
        d.absolute_change = back(d.absolute_change);
    }
    Ok(Detection::Done {
        change_points,
        drifts,
    })
}

/// A power of two ≥ max |v| (1 for an all-zero series).
fn power_of_two_scale(values: &[f64]) -> f64 {
    let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return 1.0;
    }
    // Any power of two within a factor 2 of max will do; the clamp keeps the scale itself
    // finite and normal (so dividing by it stays exact).
    2f64.powi((max.log2().ceil() as i32).clamp(-1000, 1023))
}

fn unscale(cp: &mut ChangePoint, scale: f64, input: EnergyInput) {
    let back = |v: f64| (v * scale).clamp(f64::MIN, f64::MAX);
    cp.before_median = back(cp.before_median);
    cp.after_median = back(cp.after_median);
    cp.before_mean = back(cp.before_mean);
    cp.after_mean = back(cp.after_mean);
    cp.absolute_change = back(cp.absolute_change);
    if input == EnergyInput::Values {
        cp.energy = back(cp.energy);
    }
}
