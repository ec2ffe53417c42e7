//! Incremental detection after new points were appended.
//!
//! Rule: let `last` be the newest previous change point. The window starts at the latest
//! regime boundary b ∈ {0} ∪ {previous indices} with b ≤ last − margin (or 0). Previous
//! change points at or before b are kept as they were (confirmed); everything from b on is
//! re-detected from scratch. The result is exactly
//! `kept ++ detect(values[b..]) shifted by b`, which the tests check.
//!
//! Starting at a boundary (not at an arbitrary index) keeps the window's first segment a
//! single regime, and the margin gives the newest change point a full left segment to
//! be re-judged against. Cost: O(w log w) for a window of w points, independent of the
//! series length once it has change points.

use crate::config::{ChangePoint, DetectConfig, DetectError, Detection};
use crate::detect;

/// Where [`detect_incremental`] starts re-examining, given the previous change points
/// (sorted or not) of a series.
pub fn incremental_window_start(previous: &[ChangePoint], cfg: &DetectConfig) -> usize {
    let Some(last) = previous.iter().map(|c| c.index).max() else {
        return 0;
    };
    let Some(limit) = last.checked_sub(cfg.incremental_margin) else {
        return 0;
    };
    previous
        .iter()
        .map(|c| c.index)
        .filter(|&b| b <= limit)
        .max()
        .unwrap_or(0)
}

/// Re-detects the tail of `values` that appended points can change; see the module docs.
/// `previous` are the change points of an earlier run on a prefix of `values`.
pub fn detect_incremental(
    values: &[f64],
    previous: &[ChangePoint],
    cfg: &DetectConfig,
) -> Result<Detection, DetectError> {
    cfg.validate()?;
    if let Some(bad) = previous.iter().find(|c| c.index >= values.len()) {
        return Err(DetectError::PreviousOutOfRange {
            index: bad.index,
            len: values.len(),
        });
    }
    let start = incremental_window_start(previous, cfg);
    if start == 0 {
        return detect(values, cfg);
    }
    let mut kept: Vec<ChangePoint> = previous
        .iter()
        .filter(|c| c.index <= start)
        .cloned()
        .collect();
    kept.sort_by_key(|c| c.index);
    let window = detect(&values[start..], cfg)?;
    for mut cp in window.change_points().iter().cloned() {
        cp.index += start;
        cp.before_start += start;
        cp.after_end += start;
        kept.push(cp);
    }
    // Drifts of the window are reported; those before it were reported by earlier runs.
    let drifts = window
        .drifts()
        .iter()
        .cloned()
        .map(|mut d| {
            d.start += start;
            d.end += start;
            d
        })
        .collect();
    Ok(Detection::Done {
        change_points: kept,
        drifts,
    })
}
