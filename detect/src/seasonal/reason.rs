//! Deciding and explaining: the verdict from p and the effect gate, and the sentence
//! that says why, with numbers written for people.

use super::{DeployVerdict, DeployVerdictKind, SeasonalConfig};

/// Verdict again after a many-metrics correction: `p_adjusted` replaces the p-value when
/// deciding Higher/Lower (Pass if it is no longer significant). Pure helper the backend
/// calls after Benjamini–Hochberg across one deploy's metrics.
///
/// NoData and Inconclusive verdicts are returned unchanged. Otherwise the returned
/// `p_value` is `p_adjusted` (a NaN counts as 1) and the reason is rewritten.
pub fn with_adjusted_p(v: &DeployVerdict, p_adjusted: f64, cfg: &SeasonalConfig) -> DeployVerdict {
    let mut out = v.clone();
    match v.verdict {
        DeployVerdictKind::NoData | DeployVerdictKind::Inconclusive => return out,
        DeployVerdictKind::Pass | DeployVerdictKind::Higher | DeployVerdictKind::Lower => {}
    }
    if v.change_pct.is_none() || v.expected.is_none() {
        return out;
    }
    let p = if p_adjusted.is_nan() {
        1.0
    } else {
        p_adjusted.clamp(0.0, 1.0)
    };
    out.p_value = Some(p);
    // The basis and variation are recovered from the original reason when possible.
    let basis = between(&v.reason, "(", ")").unwrap_or_else(|| "seasonal expectation".into());
    let variation = match (v.change_pct, v.low_pct, v.high_pct) {
        (Some(c), Some(l), Some(h)) => {
            // Half-width of the interval in log space.
            let (lc, ll, lh) = (ln1p_pct(c), ln1p_pct(l), ln1p_pct(h));
            let hw = ((lh - lc).max(lc - ll)).max(0.0);
            if hw.is_finite() {
                hw.exp_m1() * 100.0
            } else {
                f64::NAN
            }
        }
        _ => f64::NAN,
    };
    decide(&mut out, p, cfg, &basis, variation);
    out.reason = format!("{} (p adjusted across the deploy's metrics)", out.reason);
    out
}

fn ln1p_pct(pct: f64) -> f64 {
    (pct / 100.0).ln_1p()
}

fn between(s: &str, open: &str, close: &str) -> Option<String> {
    let a = s.find(open)? + open.len();
    let b = a + s[a..].find(close)?;
    Some(s[a..b].to_string())
}

/// Sets the verdict and reason from `p`, the change and the effect gate.
pub(super) fn decide(
    v: &mut DeployVerdict,
    p: f64,
    cfg: &SeasonalConfig,
    basis: &str,
    variation: f64,
) {
    let (Some(change), Some(exp)) = (v.change_pct, v.expected) else {
        return;
    };
    let significant = p < cfg.alpha;
    let big = change.abs() >= cfg.min_effect_pct;
    let from_past = v.past_deploys.as_ref().is_some_and(|r| r.sets_sigma);
    let var = if !variation.is_finite() {
        String::new()
    } else if from_past {
        format!(
            "; the variation at past deploys is ±{} % (wider than week to week)",
            fmt_pct(variation)
        )
    } else {
        format!("; the weekly variation is ±{} %", fmt_pct(variation))
    };
    let rank = match &v.past_deploys {
        Some(r) => format!(
            "; larger than {} of the last {} deploy{}",
            r.larger_than,
            r.of,
            if r.of == 1 { "" } else { "s" }
        ),
        None => String::new(),
    };
    let head = format!(
        "{} the expected {} ({}){}{}",
        fmt_change(change),
        fmt_num(exp),
        basis,
        var,
        rank
    );
    if significant && big {
        v.verdict = if change > 0.0 {
            DeployVerdictKind::Higher
        } else {
            DeployVerdictKind::Lower
        };
        v.reason = format!("{head}; {}", fmt_p(p));
    } else if !significant {
        v.verdict = DeployVerdictKind::Pass;
        v.reason = format!("{head}; within the week-to-week variation ({})", fmt_p(p));
    } else {
        v.verdict = DeployVerdictKind::Pass;
        v.reason = format!(
            "{head}; significant ({}) but under the {} % minimum effect",
            fmt_p(p),
            fmt_num(cfg.min_effect_pct)
        );
    }
}

pub(super) fn clamp_pct(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

pub(super) fn fmt_change(pct: f64) -> String {
    let a = pct.abs();
    if a < 0.05 {
        "equal to".to_string()
    } else if pct > 0.0 {
        format!("{} % above", fmt_pct(a))
    } else {
        format!("{} % below", fmt_pct(a))
    }
}

/// A percentage for a sentence: whole numbers from 10 %, one decimal below.
fn fmt_pct(a: f64) -> String {
    if a >= 1e6 {
        fmt_num(a)
    } else if a >= 10.0 {
        format!("{a:.0}")
    } else {
        format!("{a:.1}")
    }
}

/// A number for a sentence: about three significant digits.
pub(super) fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a >= 1e6 || (a < 1e-3 && a > 0.0) {
        format!("{x:.3e}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

pub(super) fn fmt_scale(s: f64) -> String {
    if (0.01..100.0).contains(&s) {
        format!("{s:.2}")
    } else {
        fmt_num(s)
    }
}

/// "p = 0.012" or "p < 0.001".
fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

pub(super) fn fmt_duration(ms: i64) -> String {
    if ms > 0 && ms % 3_600_000 == 0 {
        format!("{} h", ms / 3_600_000)
    } else if ms > 0 && ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else {
        format!("{ms} ms")
    }
}
