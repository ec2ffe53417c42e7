//! Threshold rules: simple, explainable alerts alongside change-point detection.
//!
//! - `static`: the value must stay within [min, max] (e.g. error rate ≤ 0.01).
//! - `percent_change`: the value must stay within +max_increase / −max_decrease (fractions)
//!   of a baseline: the median of the N points before it, or a pinned value (e.g. a
//!   release's median).
//! - `z_score`: |value − mean| / stddev of the N points before it must stay ≤ max_z.
//!
//! A rule evaluates the newest point ([`ThresholdRule::evaluate_latest`]) or every point
//! of a history as if it had been the newest ([`ThresholdRule::evaluate_history`], for
//! backfill). A point without enough history is not evaluated. Rules are serde tagged
//! enums (`{"kind": "z_score", "lookback": 30, "max_z": 4}`) so the API stores them as JSON.

use perfwatch_core::summary::median_sorted;
use serde::{Deserialize, Serialize};

use crate::adjacent::relative_change;

/// Which deviations count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Increase,
    Decrease,
    #[default]
    Both,
}

/// Reference value for `percent_change`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Baseline {
    /// Median of the `n` points before the evaluated one.
    MedianOfLast { n: usize },
    /// A fixed value, e.g. the median of a release; `label` is shown in alerts.
    Pinned {
        value: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThresholdRule {
    Static {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    PercentChange {
        baseline: Baseline,
        /// Largest allowed rise as a fraction (0.1 = +10 %); `None` = rises never breach.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_increase: Option<f64>,
        /// Largest allowed fall as a fraction (0.1 = −10 %); `None` = falls never breach.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_decrease: Option<f64>,
    },
    ZScore {
        lookback: usize,
        max_z: f64,
        #[serde(default)]
        side: Side,
    },
}

/// One point outside a rule's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    /// Index of the breaching point in the evaluated slice.
    pub index: usize,
    pub value: f64,
    /// `static`, `percent_change` or `z_score`.
    pub rule: String,
    /// Reference the value was compared with: the bound itself for `static`, the
    /// baseline for `percent_change`, the lookback mean for `z_score`.
    pub baseline: f64,
    /// The limit crossed, in the value's unit.
    pub limit: f64,
    /// How far past the limit, in the value's unit (always > 0).
    pub excess: f64,
    /// Rule-specific size: the value for `static`, the relative change against the
    /// baseline for `percent_change`, z for `z_score` (saturating at ±f64::MAX if the
    /// lookback has zero spread).
    pub score: f64,
    /// `increase` when above the limit, `decrease` when below.
    pub side: Side,
    /// Human-readable description of the baseline used.
    pub baseline_label: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("invalid threshold rule: {0}")]
    Invalid(&'static str),
}

impl ThresholdRule {
    /// Checks parameters so a stored rule cannot misbehave later.
    pub fn validate(&self) -> Result<(), RuleError> {
        let finite_nonneg = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && x >= 0.0);
        match self {
            ThresholdRule::Static { min, max } => {
                if min.is_none() && max.is_none() {
                    return Err(RuleError::Invalid("static rule needs min or max"));
                }
                if min.is_some_and(|x| !x.is_finite()) || max.is_some_and(|x| !x.is_finite()) {
                    return Err(RuleError::Invalid("bounds must be finite"));
                }
                if let (Some(a), Some(b)) = (min, max) {
                    if a > b {
                        return Err(RuleError::Invalid("min must not exceed max"));
                    }
                }
            }
            ThresholdRule::PercentChange {
                baseline,
                max_increase,
                max_decrease,
            } => {
                if !finite_nonneg(*max_increase) || !finite_nonneg(*max_decrease) {
                    return Err(RuleError::Invalid("percentages must be finite and >= 0"));
                }
                match baseline {
                    Baseline::MedianOfLast { n } if *n == 0 => {
                        return Err(RuleError::Invalid("baseline window must be >= 1"))
                    }
                    Baseline::Pinned { value, .. } if !value.is_finite() => {
                        return Err(RuleError::Invalid("pinned baseline must be finite"))
                    }
                    _ => {}
                }
            }
            ThresholdRule::ZScore {
                lookback, max_z, ..
            } => {
                if *lookback < 2 {
                    return Err(RuleError::Invalid("z-score lookback must be >= 2"));
                }
                if !(max_z.is_finite() && *max_z > 0.0) {
                    return Err(RuleError::Invalid("max_z must be finite and > 0"));
                }
            }
        }
        Ok(())
    }

    /// The breach of the newest point, if any.
    pub fn evaluate_latest(&self, values: &[f64]) -> Option<Breach> {
        values
            .len()
            .checked_sub(1)
            .and_then(|i| self.evaluate_at(values, i))
    }

    /// Every breach in `values`, each point judged only against the points before it.
    pub fn evaluate_history(&self, values: &[f64]) -> Vec<Breach> {
        (0..values.len())
            .filter_map(|i| self.evaluate_at(values, i))
            .collect()
    }

    /// Judges `values[i]` against the rule using only `values[..i]` as history.
    /// Non-finite values are never judged (ingestion rejects them).
    pub fn evaluate_at(&self, values: &[f64], i: usize) -> Option<Breach> {
        let v = *values.get(i)?;
        if !v.is_finite() {
            return None;
        }
        let history = &values[..i];
        match self {
            ThresholdRule::Static { min, max } => static_breach(i, v, *min, *max),
            ThresholdRule::PercentChange {
                baseline,
                max_increase,
                max_decrease,
            } => percent_change_breach(i, v, history, baseline, *max_increase, *max_decrease),
            ThresholdRule::ZScore {
                lookback,
                max_z,
                side,
            } => z_score_breach(i, v, history, *lookback, *max_z, *side),
        }
    }
}

fn static_breach(i: usize, v: f64, min: Option<f64>, max: Option<f64>) -> Option<Breach> {
    if let Some(hi) = max.filter(|hi| v > *hi) {
        return Some(breach(i, v, "static", hi, hi, v, Side::Increase, "max"));
    }
    if let Some(lo) = min.filter(|lo| v < *lo) {
        return Some(breach(i, v, "static", lo, lo, v, Side::Decrease, "min"));
    }
    None
}

/// The baseline value and how to name it; None while the history is too short.
fn baseline_value(baseline: &Baseline, history: &[f64]) -> Option<(f64, String)> {
    match baseline {
        Baseline::MedianOfLast { n } => {
            let window = history.get(history.len().checked_sub(*n)?..)?;
            let mut w: Vec<f64> = window.iter().copied().filter(|x| x.is_finite()).collect();
            if w.len() < *n {
                return None;
            }
            w.sort_by(f64::total_cmp);
            Some((median_sorted(&w), format!("median of last {n} points")))
        }
        Baseline::Pinned { value, label } => Some((
            *value,
            label
                .clone()
                .unwrap_or_else(|| "pinned baseline".to_string()),
        )),
    }
}

fn percent_change_breach(
    i: usize,
    v: f64,
    history: &[f64],
    baseline: &Baseline,
    max_increase: Option<f64>,
    max_decrease: Option<f64>,
) -> Option<Breach> {
    let (base, label) = baseline_value(baseline, history)?;
    let rel = relative_change(base, v);
    // Limits in value units; |base| keeps "increase" meaning "larger" for negative data.
    if let Some(up) = max_increase {
        let limit = base + up * base.abs();
        if v > limit {
            return Some(breach(
                i,
                v,
                "percent_change",
                base,
                limit,
                rel,
                Side::Increase,
                &label,
            ));
        }
    }
    if let Some(down) = max_decrease {
        let limit = base - down * base.abs();
        if v < limit {
            return Some(breach(
                i,
                v,
                "percent_change",
                base,
                limit,
                rel,
                Side::Decrease,
                &label,
            ));
        }
    }
    None
}

fn z_score_breach(
    i: usize,
    v: f64,
    history: &[f64],
    lookback: usize,
    max_z: f64,
    side: Side,
) -> Option<Breach> {
    let window = history.get(history.len().checked_sub(lookback)?..)?;
    if window.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = window.len() as f64;
    let mean = window.iter().sum::<f64>() / n;
    let sd = (window.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // Zero spread: any difference is infinitely many σ; saturate so JSON stays finite.
    let z = if sd > 0.0 {
        (v - mean) / sd
    } else if v == mean {
        0.0
    } else {
        f64::MAX.copysign(v - mean)
    };
    let label = format!("mean of last {lookback} points");
    let up = matches!(side, Side::Increase | Side::Both);
    let down = matches!(side, Side::Decrease | Side::Both);
    if up && z > max_z {
        let limit = mean + max_z * sd;
        return Some(breach(
            i,
            v,
            "z_score",
            mean,
            limit,
            z,
            Side::Increase,
            &label,
        ));
    }
    if down && z < -max_z {
        let limit = mean - max_z * sd;
        return Some(breach(
            i,
            v,
            "z_score",
            mean,
            limit,
            z,
            Side::Decrease,
            &label,
        ));
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn breach(
    index: usize,
    value: f64,
    rule: &str,
    baseline: f64,
    limit: f64,
    score: f64,
    side: Side,
    label: &str,
) -> Breach {
    Breach {
        index,
        value,
        rule: rule.to_string(),
        baseline,
        limit,
        excess: (value - limit).abs(),
        score,
        side,
        baseline_label: label.to_string(),
    }
}
