//! Hourly rollups of a production series: what is kept for good once raw points age
//! out of their retention (docs/metrics.md, "Retention"). Pure.

use serde::{Deserialize, Serialize};

pub const HOUR_MS: i64 = 3_600_000;

/// One hour of a series: count, extremes, mean and two percentiles of its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollup {
    /// Start of the hour, ms since the epoch.
    pub hour: i64,
    pub n: i64,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
    pub p50: f64,
    pub p95: f64,
}

/// Percentile `q` (0–1) of sorted values, linear between closest ranks.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Rolls `points` (time ms, value; any order) up by hour, oldest first. Non-finite
/// values are left out; a mean that would overflow is computed scaled.
pub fn hourly(points: &[(i64, f64)]) -> Vec<Rollup> {
    let mut by_hour: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
    for &(t, v) in points {
        if v.is_finite() {
            by_hour
                .entry(t.div_euclid(HOUR_MS).saturating_mul(HOUR_MS))
                .or_default()
                .push(v);
        }
    }
    by_hour
        .into_iter()
        .map(|(hour, mut v)| {
            v.sort_by(f64::total_cmp);
            let n = v.len() as f64;
            // Sum of v/n: no overflow near f64::MAX; rounding kept inside the extremes.
            let mean = v
                .iter()
                .map(|x| x / n)
                .sum::<f64>()
                .clamp(v[0], v[v.len() - 1]);
            Rollup {
                hour,
                n: v.len() as i64,
                min: v[0],
                mean,
                max: v[v.len() - 1],
                p50: percentile(&v, 0.5),
                p95: percentile(&v, 0.95),
            }
        })
        .collect()
}

/// Merges two rollups of the same hour (points of one hour rolled up in two passes):
/// count, extremes and mean exactly; the percentiles as count-weighted means of the two
/// (an approximation, exact when either side is empty).
pub fn merge(a: &Rollup, b: &Rollup) -> Rollup {
    let n = a.n + b.n;
    if a.n == 0 {
        return b.clone();
    }
    if b.n == 0 {
        return a.clone();
    }
    let (wa, wb) = (a.n as f64 / n as f64, b.n as f64 / n as f64);
    Rollup {
        hour: a.hour,
        n,
        min: a.min.min(b.min),
        mean: a.mean * wa + b.mean * wb,
        max: a.max.max(b.max),
        p50: a.p50 * wa + b.p50 * wb,
        p95: a.p95 * wa + b.p95 * wb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn twelve_five_minute_points_make_one_hour() {
        let pts: Vec<(i64, f64)> = (0..24).map(|i| (i * 300_000, (i % 12) as f64)).collect();
        let r = hourly(&pts);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].hour, HOUR_MS);
        assert_eq!(r[0].n, 12);
        assert_eq!((r[0].min, r[0].max), (0.0, 11.0));
        assert_eq!(r[0].mean, 5.5);
        assert_eq!(r[0].p50, 5.5);
        assert!((r[0].p95 - 10.45).abs() < 1e-9);
    }

    #[test]
    fn merging_is_exact_for_count_extremes_and_mean() {
        let pts: Vec<(i64, f64)> = (0..12).map(|i| (i * 300_000, i as f64)).collect();
        let whole = &hourly(&pts)[0];
        let m = merge(&hourly(&pts[..5])[0], &hourly(&pts[5..])[0]);
        assert_eq!((m.n, m.min, m.max), (whole.n, whole.min, whole.max));
        assert!((m.mean - whole.mean).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn rollups_bound_their_points(pts in prop::collection::vec((-10_000_000i64..10_000_000, prop::num::f64::ANY), 0..200)) {
            let r = hourly(&pts);
            let finite = pts.iter().filter(|p| p.1.is_finite()).count() as i64;
            prop_assert_eq!(r.iter().map(|x| x.n).sum::<i64>(), finite);
            for x in &r {
                prop_assert!(x.min <= x.p50 && x.p50 <= x.p95 && x.p95 <= x.max);
                prop_assert!(x.min <= x.mean && x.mean <= x.max);
                prop_assert_eq!(x.hour.rem_euclid(HOUR_MS), 0);
            }
        }
    }
}
