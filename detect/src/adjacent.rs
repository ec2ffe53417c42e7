//! Statistics of the two segments adjacent to a change point: what the user sees
//! (medians, means, relative change) and what the pruning decides on (p-value).

use perfwatch_core::summary::median_sorted;

use crate::config::{ChangePoint, DetectConfig, EnergyInput};
use crate::energy::q_hat_sorted;
use crate::significance::{mann_whitney_sorted, mean_var, welch, SignificanceTest};

/// Describes the change at `index` between `values[start..index]` and `values[index..end]`.
pub(crate) fn describe(
    values: &[f64],
    start: usize,
    index: usize,
    end: usize,
    cfg: &DetectConfig,
) -> ChangePoint {
    let before = &values[start..index];
    let after = &values[index..end];
    let mut xs = before.to_vec();
    let mut ys = after.to_vec();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let (mx, vx) = mean_var(before);
    let (my, vy) = mean_var(after);
    let p_value = match cfg.test {
        SignificanceTest::MannWhitney => mann_whitney_sorted(&xs, &ys),
        SignificanceTest::Welch => welch(xs.len(), mx, vx, ys.len(), my, vy),
    };
    let before_median = median_sorted(&xs);
    let after_median = median_sorted(&ys);
    ChangePoint {
        index,
        before_start: start,
        after_end: end,
        before_median,
        after_median,
        before_mean: mx,
        after_mean: my,
        relative_change: relative_change(before_median, after_median),
        absolute_change: after_median - before_median,
        p_value,
        energy: energy(&xs, &ys, cfg.energy_input),
    }
}

/// (after − before) / |before|, saturating when `before` is 0 so it stays JSON-finite.
pub fn relative_change(before: f64, after: f64) -> f64 {
    if before != 0.0 {
        (after - before) / before.abs()
    } else if after == 0.0 {
        0.0
    } else {
        f64::MAX.copysign(after)
    }
}

/// Q̂ of two sorted segments, on raw values or on pooled ranks scaled to (0, 1].
fn energy(xs: &[f64], ys: &[f64], input: EnergyInput) -> f64 {
    let mut merged = Vec::with_capacity(xs.len() + ys.len());
    merged.extend_from_slice(xs);
    merged.extend_from_slice(ys);
    merged.sort_by(f64::total_cmp);
    match input {
        EnergyInput::Values => q_hat_sorted(xs, ys, &merged),
        EnergyInput::Ranks => {
            let n = merged.len() as f64;
            // Mid-rank of a value = mean of the 1-based positions it occupies in `merged`.
            let to_rank = |v: f64| {
                let lo = merged.partition_point(|m| *m < v);
                let hi = merged.partition_point(|m| *m <= v);
                (lo + 1 + hi) as f64 / 2.0 / n
            };
            let rx: Vec<f64> = xs.iter().map(|&v| to_rank(v)).collect();
            let ry: Vec<f64> = ys.iter().map(|&v| to_rank(v)).collect();
            let mut rm: Vec<f64> = merged.iter().map(|&v| to_rank(v)).collect();
            rm.sort_by(f64::total_cmp);
            q_hat_sorted(&rx, &ry, &rm)
        }
    }
}

/// Whether a described change point survives the configured filters.
pub(crate) fn passes(cp: &ChangePoint, cfg: &DetectConfig) -> bool {
    // Segmentation keeps segments ≥ min_segment; a drift edge placed later might not.
    cp.index - cp.before_start >= cfg.min_segment
        && cp.after_end - cp.index >= cfg.min_segment
        && cp.p_value <= cfg.max_p_value
        && cp.relative_change.abs() >= cfg.min_relative_change
}
