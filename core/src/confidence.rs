//! Confidence in words: what the compare and alert pages say next to a p-value, the
//! series' typical run-to-run variation, and why something is or is not a regression
//! or an alert. One pure function per question, so every page words it the same way.

use crate::alerts::{AlertKind, AlertView};
use crate::comparison::{CompareRow, RowVerdict};
use crate::summary::median_sorted;

/// p at or below this reads "very likely".
pub const VERY_LIKELY_P: f64 = 0.01;
/// p at or below this (the default significance level) reads "likely".
pub const LIKELY_P: f64 = 0.05;
/// The comparison's default minimum change (1 %), as the pages explain it.
pub const MIN_CHANGE_PCT: f64 = 1.0;

/// Fewer levels than this give no run-to-run variation.
pub const MIN_LEVELS: usize = 8;

/// How sure the test is that a change is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likelihood {
    VeryLikely,
    Likely,
    Noise,
}

impl Likelihood {
    pub fn of(p: f64) -> Self {
        if p <= VERY_LIKELY_P {
            Self::VeryLikely
        } else if p <= LIKELY_P {
            Self::Likely
        } else {
            Self::Noise
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::VeryLikely => "very likely real",
            Self::Likely => "likely real",
            Self::Noise => "not distinguishable from noise",
        }
    }

    /// CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLikely => "very-likely",
            Self::Likely => "likely",
            Self::Noise => "noise",
        }
    }
}

/// σ of one level from adjacent differences: `1.4826 · MAD(xᵢ₊₁ − xᵢ) / √2`.
/// A past step moves one difference, which the median ignores. `None` below
/// [`MIN_LEVELS`] finite values.
pub fn adjacent_sigma(x: &[f64]) -> Option<f64> {
    let x: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if x.len() < MIN_LEVELS {
        return None;
    }
    let mut d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    d.sort_by(f64::total_cmp);
    let centre = median_sorted(&d);
    let mut dev: Vec<f64> = d.iter().map(|v| (v - centre).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let sigma = 1.4826 * median_sorted(&dev) / std::f64::consts::SQRT_2;
    sigma.is_finite().then_some(sigma)
}

/// Typical run-to-run variation of positive levels (run medians in order), in ±%.
pub fn run_to_run_pct(levels: &[f64]) -> Option<f64> {
    if !levels.iter().all(|v| *v > 0.0 && v.is_finite()) {
        return None;
    }
    let ln: Vec<f64> = levels.iter().map(|v| v.ln()).collect();
    adjacent_sigma(&ln).map(|s| s.exp_m1() * 100.0)
}

/// "typical variation ±1.2 % run to run".
pub fn variation_words(noise_pct: Option<f64>) -> Option<String> {
    noise_pct
        .filter(|n| n.is_finite())
        .map(|n| format!("typical variation ±{} run to run", pct(n)))
}

/// What a page shows beside a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// `None` when there is no p-value.
    pub likelihood: Option<Likelihood>,
    pub variation: Option<String>,
    /// Why the verdict is what it is, as a sentence.
    pub why: String,
}

fn pct(v: f64) -> String {
    let a = v.abs();
    if a >= 10.0 {
        format!("{v:.0} %")
    } else if a >= 1.0 {
        format!("{v:.1} %")
    } else {
        format!("{v:.2} %")
    }
}

fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", pct(v))
    } else {
        pct(v)
    }
}

/// Why a compare row has its verdict.
pub fn explain_row(r: &CompareRow) -> Explanation {
    let p = r.p_adjusted.or(r.p_value);
    let change = r
        .change_pct
        .map(signed)
        .unwrap_or_else(|| "the change".into());
    let interval = match (r.change_low, r.change_high) {
        (Some(lo), Some(hi)) => format!(" [{}, {}]", signed(lo), signed(hi)),
        _ => String::new(),
    };
    let corrected = match (r.p_value, r.p_adjusted) {
        (Some(raw), Some(adj)) => {
            format!("p = {raw:.3}, {adj:.3} after the many-series correction")
        }
        (Some(raw), None) => format!("p = {raw:.3}"),
        _ => String::new(),
    };
    let why = match r.verdict {
        RowVerdict::Added => "only in the head side: nothing to compare with".to_string(),
        RowVerdict::Removed => "only in the base side: nothing to compare with".to_string(),
        RowVerdict::Regression | RowVerdict::Improvement => {
            let word = if r.verdict == RowVerdict::Regression {
                "a regression"
            } else {
                "an improvement"
            };
            let bar = match r.run_basis {
                Some(b) => format!(
                    "beyond the noise fence of {} (1.5 × the run-to-run variation, at least the {} minimum), comparing {} vs {} runs",
                    pct(b.fence_pct),
                    pct(MIN_CHANGE_PCT),
                    b.base_runs,
                    b.head_runs
                ),
                None => format!("above the {} minimum change", pct(MIN_CHANGE_PCT)),
            };
            format!("{word}: {change}{interval} excludes zero, is {bar}, and is significant ({corrected})")
        }
        RowVerdict::NoChange => no_change_reason(r, &change, &corrected),
        RowVerdict::NotEnoughSamples => match (r.run_basis, r.needed) {
            (Some(b), Some(n)) => format!(
                "inconclusive: {change} is beyond the noise fence of {} but {} vs {} runs cannot tell it from noise ({corrected}); about {n} runs per side would decide",
                pct(b.fence_pct),
                b.base_runs,
                b.head_runs
            ),
            (_, needed) => format!(
                "inconclusive: {} vs {} samples can never be significant with a rank test{}",
                r.base.map_or(0, |s| s.n),
                r.head.map_or(0, |s| s.n),
                needed.map(|n| format!("; {n} per side can")).unwrap_or_default()
            ),
        },
    };
    Explanation {
        likelihood: p.map(Likelihood::of),
        variation: variation_words(r.noise_pct),
        why,
    }
}

fn no_change_reason(r: &CompareRow, change: &str, corrected: &str) -> String {
    let size = r.change_pct.map(f64::abs);
    if let (Some(b), Some(s)) = (r.run_basis, size) {
        if s < b.fence_pct {
            return format!(
                "no change: {change} is within the noise fence of {} (1.5 × the run-to-run variation, at least the {} minimum)",
                pct(b.fence_pct),
                pct(MIN_CHANGE_PCT)
            );
        }
    }
    if size.is_some_and(|s| s < MIN_CHANGE_PCT) {
        return format!(
            "no change: {change} is below the {} minimum change",
            pct(MIN_CHANGE_PCT)
        );
    }
    match (r.p_value, r.p_adjusted) {
        (Some(raw), Some(adj)) if raw <= LIKELY_P && adj > LIKELY_P => format!(
            "no change: {change} is not significant after the many-series correction ({corrected})"
        ),
        _ => format!("no change: {change} is not distinguishable from noise ({corrected})"),
    }
}

/// Why an alert is an alert. `noise_pct`: the series' run-to-run variation, if known.
pub fn explain_alert(a: &AlertView, noise_pct: Option<f64>) -> Explanation {
    let change = signed(a.relative_change * 100.0);
    let why = match a.kind {
        AlertKind::Threshold => format!(
            "an alert because the value crossed a threshold rule's limit ({change} from its baseline); threshold rules apply no significance test"
        ),
        AlertKind::Changepoint => {
            let p = a
                .p_value
                .map(|p| format!(" (p = {p:.1e})"))
                .unwrap_or_default();
            let mut s = format!(
                "an alert because the change-point test found a shift of {change}, above the {} minimum change and significant after the many-series correction{p}",
                pct(MIN_CHANGE_PCT)
            );
            if let Some(n) = noise_pct.filter(|n| (a.relative_change * 100.0).abs() < 1.5 * n) {
                s.push_str(&format!(
                    "; it is small next to the series' ±{} run-to-run variation, so check the chart before acting",
                    pct(n)
                ));
            }
            s
        }
        AlertKind::Drift => {
            let span = a.details.as_ref().and_then(|d| {
                Some(d["end"].as_u64()?.saturating_sub(d["start"].as_u64()?))
            });
            match span {
                Some(n) => format!(
                    "an alert because the trend pass found a gradual drift of {change} spread over {n} points, not one step; look for a series of commits rather than one"
                ),
                None => format!(
                    "an alert because the trend pass found a gradual drift of {change}, not one step; look for a series of commits rather than one"
                ),
            }
        }
    };
    Explanation {
        likelihood: a.p_value.map(Likelihood::of),
        variation: variation_words(noise_pct),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::comparison::{RunBasis, SideSummary};
    use crate::view::SeriesInfo;
    use crate::Direction;

    fn row(verdict: RowVerdict, change: f64, p: f64, p_adj: f64) -> CompareRow {
        let side = SideSummary {
            n: 15,
            median: 100.0,
            ci_low: 99.0,
            ci_high: 101.0,
            confidence: 0.95,
        };
        CompareRow {
            series: SeriesInfo {
                id: 1,
                project: "p".into(),
                benchmark: "b".into(),
                measure: "time".into(),
                unit: "ns".into(),
                display_unit: "ns".into(),
                direction: Direction::Lower,
                testbed: "t".into(),
                params: String::new(),
            },
            group: "b".into(),
            base: Some(side),
            head: Some(side),
            change_pct: Some(change),
            change_low: Some(change - 1.0),
            change_high: Some(change + 1.0),
            p_value: Some(p),
            p_adjusted: Some(p_adj),
            verdict,
            needed: None,
            notes: vec![],
            base_samples: vec![],
            head_samples: vec![],
            noise_pct: Some(1.2),
            run_basis: None,
        }
    }

    #[test]
    fn compare_rows_say_why() {
        let r = row(RowVerdict::Regression, 12.0, 1e-4, 1e-3);
        let e = explain_row(&r);
        assert_eq!(e.likelihood, Some(Likelihood::VeryLikely));
        assert_eq!(
            e.variation.as_deref(),
            Some("typical variation ±1.2 % run to run")
        );
        assert!(
            e.why
                .starts_with("a regression: +12 % [+11 %, +13 %] excludes zero"),
            "{}",
            e.why
        );
        // Raw p passes, the corrected one does not.
        let e = explain_row(&row(RowVerdict::NoChange, 3.0, 0.02, 0.2));
        assert!(
            e.why
                .contains("not significant after the many-series correction"),
            "{}",
            e.why
        );
        assert_eq!(e.likelihood, Some(Likelihood::Noise));
        let e = explain_row(&row(RowVerdict::NoChange, 0.4, 0.001, 0.004));
        assert!(
            e.why.contains("below the 1.0 % minimum change"),
            "{}",
            e.why
        );
        // Run-level: within the fence, and undecided with the runs that would decide.
        let mut r = row(RowVerdict::NoChange, 1.5, 0.01, 0.02);
        r.run_basis = Some(RunBasis {
            base_runs: 15,
            head_runs: 15,
            fence_pct: 1.8,
        });
        assert!(explain_row(&r)
            .why
            .contains("within the noise fence of 1.8 %"));
        r.verdict = RowVerdict::NotEnoughSamples;
        r.change_pct = Some(5.0);
        r.needed = Some(6);
        r.run_basis = Some(RunBasis {
            base_runs: 1,
            head_runs: 1,
            fence_pct: 1.8,
        });
        let why = explain_row(&r).why;
        assert!(
            why.contains("1 vs 1 runs") && why.contains("about 6 runs per side"),
            "{why}"
        );
    }

    #[test]
    fn likelihood_words_follow_p() {
        assert_eq!(Likelihood::of(0.001).words(), "very likely real");
        assert_eq!(Likelihood::of(0.03).words(), "likely real");
        assert_eq!(
            Likelihood::of(0.2).words(),
            "not distinguishable from noise"
        );
    }

    #[test]
    fn run_to_run_variation_ignores_a_step() {
        // 2 % lognormal-ish noise (sum of 12 uniforms) around 100, a 30 % step half-way.
        let mut seed = 42u64;
        let mut uniform = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let levels: Vec<f64> = (0..400)
            .map(|i| {
                let z: f64 = (0..12).map(|_| uniform()).sum::<f64>() - 6.0;
                let step = if i >= 200 { 1.3 } else { 1.0 };
                100.0 * step * (0.02 * z).exp()
            })
            .collect();
        let v = run_to_run_pct(&levels).unwrap();
        assert!((v - 2.0).abs() < 0.3, "{v}");
        assert_eq!(run_to_run_pct(&levels[..5]), None);
        assert_eq!(run_to_run_pct(&[0.0; 10]), None);
        assert_eq!(
            variation_words(Some(1.234)).as_deref(),
            Some("typical variation ±1.2 % run to run")
        );
    }
}
