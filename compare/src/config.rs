//! Settings of a comparison and their validation.
//!
//! Kept apart from the statistics so that callers (API, UI, PR bot) can build, store
//! and validate a configuration without running anything.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How strict a comparison is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareConfig {
    /// Per-series significance level for the raw Mann–Whitney p-value, in (0, 1).
    /// Also decides when a series has too few samples to ever be significant.
    pub alpha: f64,
    /// False-discovery rate for Benjamini–Hochberg across all series, in (0, 1].
    /// `1.0` switches FDR control off (then only `alpha` applies).
    pub fdr_q: f64,
    /// Smallest relative change that counts, as a fraction (`0.01` = 1 %), ≥ 0.
    /// Applied symmetrically on the log scale: head/base ≥ 1 + t or ≤ 1 / (1 + t).
    pub min_change: f64,
    /// Confidence level of every interval (medians, change), in (0, 1).
    pub confidence: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            fdr_q: 0.05,
            min_change: 0.01,
            confidence: 0.95,
        }
    }
}

/// Why a comparison could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CompareError {
    /// A configuration field is out of range; names the field and the allowed range.
    #[error("invalid comparison setting `{field}` = {value}: must be {expected}")]
    InvalidConfig {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
}

impl CompareConfig {
    /// Checks every field; the first bad one is reported.
    pub fn validate(&self) -> Result<(), CompareError> {
        let bad = |field, value, expected| {
            Err(CompareError::InvalidConfig {
                field,
                value,
                expected,
            })
        };
        // `!(a < x && x < b)` also rejects NaN.
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad("alpha", self.alpha, "in (0, 1)");
        }
        if !(self.fdr_q > 0.0 && self.fdr_q <= 1.0) {
            return bad("fdr_q", self.fdr_q, "in (0, 1]");
        }
        if !(self.min_change >= 0.0 && self.min_change.is_finite()) {
            return bad("min_change", self.min_change, "a finite fraction >= 0");
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence", self.confidence, "in (0, 1)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        assert_eq!(CompareConfig::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_out_of_range_fields_by_name() {
        let cases = [
            (
                CompareConfig {
                    alpha: 0.0,
                    ..Default::default()
                },
                "alpha",
            ),
            (
                CompareConfig {
                    alpha: f64::NAN,
                    ..Default::default()
                },
                "alpha",
            ),
            (
                CompareConfig {
                    fdr_q: 1.5,
                    ..Default::default()
                },
                "fdr_q",
            ),
            (
                CompareConfig {
                    min_change: -0.1,
                    ..Default::default()
                },
                "min_change",
            ),
            (
                CompareConfig {
                    min_change: f64::INFINITY,
                    ..Default::default()
                },
                "min_change",
            ),
            (
                CompareConfig {
                    confidence: 1.0,
                    ..Default::default()
                },
                "confidence",
            ),
        ];
        for (cfg, name) in cases {
            match cfg.validate() {
                Err(CompareError::InvalidConfig { field, .. }) => assert_eq!(field, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(CompareConfig {
            fdr_q: 1.0,
            ..Default::default()
        }
        .validate()
        .is_ok());
    }
}
