//! Detection on a series with missing points: the gaps are left out, detection runs on
//! the points that exist, and every index in the result is mapped back to the series
//! with its gaps, so a change point's `index` is the row where the new regime's first
//! present point sits.

use crate::config::{DetectConfig, DetectError, Detection};
use crate::detect;

/// [`detect`] on `values` where `None` is a missing point. `TooShort::got` counts the
/// present points; a non-finite value's index is its position in `values`.
pub fn detect_with_gaps(
    values: &[Option<f64>],
    cfg: &DetectConfig,
) -> Result<Detection, DetectError> {
    let rows: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    // Index k among the present points → its row; one past the last → the series length.
    let row = |k: usize| rows.get(k).copied().unwrap_or(values.len());
    let mut d = detect(&present, cfg).map_err(|e| match e {
        DetectError::NonFinite { index } => DetectError::NonFinite { index: row(index) },
        other => other,
    })?;
    if let Detection::Done {
        change_points,
        drifts,
    } = &mut d
    {
        for cp in change_points {
            cp.index = row(cp.index);
            cp.before_start = row(cp.before_start);
            cp.after_end = row(cp.after_end);
        }
        for dr in drifts {
            dr.start = row(dr.start);
            dr.end = row(dr.end);
        }
    }
    Ok(d)
}
