//! What the load-tool readers (goose, oha, vegeta, locust) share: one request name's
//! summary turned into the same series perfwatch's own load runner writes — `latency`
//! (ms, the mean as the sample, percentiles beside it), `throughput` (requests/s),
//! `error_rate` (%), `requests` and `failures` (counts) — so results from any tool line up.

use perfwatch_core::Direction;

use crate::common::{Obs, Params, Series};

/// One request name's summary, in milliseconds and requests per second.
#[derive(Default)]
pub(crate) struct LoadSummary {
    pub latency_mean_ms: Option<f64>,
    /// (percentile as text, value in ms).
    pub percentiles_ms: Vec<(String, f64)>,
    pub requests: Option<f64>,
    pub failures: Option<f64>,
    pub throughput: Option<f64>,
}

impl LoadSummary {
    /// Adds the series of `bench`; the error is what was expected (no location).
    pub fn add_to(&self, series: &mut Series, bench: &str) -> Result<(), String> {
        let no_params = Params::new();
        let mut add = |measure: &str, unit: &str, dir: Direction, x: f64| {
            series
                .add(Obs {
                    benchmark: bench,
                    params: &no_params,
                    measure,
                    unit,
                    direction: Some(dir),
                    samples: &[x],
                    iterations: None,
                })
                .map(|_| ())
        };
        if let Some(n) = self.requests {
            add("requests", "count", Direction::Higher, n)?;
        }
        if let Some(f) = self.failures {
            add("failures", "count", Direction::Lower, f)?;
            if let Some(n) = self.requests.filter(|n| *n > 0.0) {
                add("error_rate", "%", Direction::Lower, f / n * 100.0)?;
            }
        }
        if let Some(t) = self.throughput {
            add("throughput", "1/s", Direction::Higher, t)?;
        }
        if let Some(mean) = self.latency_mean_ms {
            let iterations = self
                .requests
                .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1e18)
                .map(|n| n as u64);
            let r = series.add(Obs {
                benchmark: bench,
                params: &no_params,
                measure: "latency",
                unit: "ms",
                direction: Some(Direction::Lower),
                samples: &[mean],
                iterations,
            })?;
            for (q, x) in &self.percentiles_ms {
                if !x.is_finite() {
                    return Err(format!("a finite number for percentile {q}"));
                }
                r.percentiles.insert(q.clone(), *x);
            }
        }
        Ok(())
    }
}

/// `p99.9` / `99.9` / `percentile_99` → `99.9` / `99`, when in 0..=100.
pub(crate) fn percentile_key(k: &str) -> Option<String> {
    let q = k
        .strip_prefix("percentile_")
        .or_else(|| k.strip_prefix('p'))
        .unwrap_or(k)
        .trim_end_matches("th");
    let v = crate::common::finite(q)?;
    (0.0..=100.0).contains(&v).then(|| q.to_string())
}
