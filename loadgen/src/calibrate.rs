//! Calibration: run short open-model steps at rising rates until the SLO breaks, then
//! bisect between the last rate that met it and the first that did not. The knee is
//! the highest rate that met the SLO; the suggested fair rate is 70 % of it (load the
//! service fairly, never overwhelm it).

use std::path::Path;
use std::time::Duration;

use crate::engine::{self, Options};
use crate::report::Report;
use crate::scenario::{Load, Scenario, WhenFull};
use crate::schedule::{Arrival, RateProfile};

/// The share of the knee suggested as the rate for regular runs.
pub const FAIR_SHARE: f64 = 0.7;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Slo {
    /// Response p99 of every operation at most this many ms.
    pub p99_ms: Option<f64>,
    /// Failed attempts of every operation at most this %.
    pub error_pct: Option<f64>,
}

/// `p99<250ms,errors<1%`.
pub fn parse_slo(text: &str) -> Result<Slo, String> {
    let mut slo = Slo::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('<')
            .ok_or_else(|| format!("`{part}`: write p99<250ms or errors<1%"))?;
        let v = v.trim_start_matches('=');
        match k.trim() {
            "p99" => {
                let d = crate::units::parse_duration(v).map_err(|e| format!("`{part}`: {e}"))?;
                slo.p99_ms = Some(d.as_secs_f64() * 1e3);
            }
            "errors" => {
                let p = v
                    .trim()
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok())
                    .ok_or_else(|| format!("`{part}`: errors take a percentage, e.g. errors<1%"))?;
                slo.error_pct = Some(p);
            }
            other => return Err(format!("`{other}`: the SLO knows p99 and errors")),
        }
    }
    if slo == Slo::default() {
        return Err("the SLO is empty; e.g. --slo \"p99<250ms,errors<1%\"".into());
    }
    Ok(slo)
}

/// Whether every operation met the SLO; the reason when not.
pub fn check(slo: &Slo, r: &Report) -> Result<(), String> {
    for op in r.ops.iter().filter(|o| o.attempts > 0) {
        if let Some(l) = slo.p99_ms.filter(|l| op.response.p99 > *l) {
            return Err(format!(
                "{} p99 {:.1} ms > {l} ms",
                op.name, op.response.p99
            ));
        }
        if let Some(l) = slo.error_pct.filter(|l| op.error_rate(None) > *l) {
            return Err(format!(
                "{} errors {:.2}% > {l}%",
                op.name,
                op.error_rate(None)
            ));
        }
    }
    Ok(())
}

/// The search over rates (pure): doubling until a failure, then bisection until the
/// bracket is within `precision` (relative).
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub good: Option<f64>,
    pub bad: Option<f64>,
    next: f64,
    pub precision: f64,
    pub max_rate: f64,
}

impl Search {
    pub fn new(start: f64, max_rate: f64, precision: f64) -> Self {
        Self {
            good: None,
            bad: None,
            next: start,
            precision,
            max_rate,
        }
    }

    /// The next rate to try, or None when done.
    pub fn next_rate(&self) -> Option<f64> {
        match (self.good, self.bad) {
            (Some(g), Some(b)) if (b - g) / g <= self.precision => None,
            (None, Some(b)) if b <= self.next / 2.0 + f64::EPSILON && b < 1.0 => None,
            (Some(g), None) if g >= self.max_rate => None,
            _ => Some(self.next),
        }
    }

    pub fn record(&mut self, rate: f64, met: bool) {
        if met {
            self.good = Some(self.good.map_or(rate, |g| g.max(rate)));
        } else {
            self.bad = Some(self.bad.map_or(rate, |b| b.min(rate)));
        }
        self.next = match (self.good, self.bad) {
            (Some(g), Some(b)) => (g + b) / 2.0,
            (Some(g), None) => (g * 2.0).min(self.max_rate),
            (None, Some(b)) => b / 2.0,
            (None, None) => self.next,
        };
    }
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub rate: f64,
    pub met: Result<(), String>,
    pub achieved: f64,
}

#[derive(Debug, Clone)]
pub struct Calibration {
    pub steps: Vec<StepResult>,
    /// The highest rate that met the SLO.
    pub knee: Option<f64>,
    pub fair_rate: Option<f64>,
}

/// The scenario at one constant rate for one step.
pub fn at_rate(s: &Scenario, rate: f64, step: Duration, warmup: Duration) -> Scenario {
    let mut out = s.clone();
    let max_in_flight = match &s.load {
        Load::Open { max_in_flight, .. } => *max_in_flight,
        Load::Closed { vus, .. } => (*vus).max(1000),
    };
    out.warmup = warmup;
    out.duration = step;
    out.thresholds.clear();
    out.load = Load::Open {
        profile: RateProfile::constant(rate, (warmup + step).as_secs_f64()),
        arrival: Arrival::Uniform,
        max_in_flight,
        when_full: WhenFull::Queue,
        rate_text: format!("{rate:.1}/s"),
    };
    out
}

/// Runs the search. `on_step` sees each step as it finishes.
pub async fn calibrate(
    s: &Scenario,
    dir: &Path,
    slo: &Slo,
    mut search: Search,
    step: Duration,
    warmup: Duration,
    mut on_step: impl FnMut(&StepResult),
) -> Result<Calibration, String> {
    let mut steps = Vec::new();
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    while let Some(rate) = search.next_rate() {
        let f = engine::run(&at_rate(s, rate, step, warmup), dir, &opts).await?;
        let mut met = check(slo, &f.report);
        // A generator that cannot keep the rate says nothing about the service.
        if met.is_ok() && f.report.achieved_rate() < rate * 0.95 {
            met = Err(format!(
                "the generator reached only {:.1}/s",
                f.report.achieved_rate()
            ));
        }
        let r = StepResult {
            rate,
            met,
            achieved: f.report.achieved_rate(),
        };
        on_step(&r);
        search.record(rate, r.met.is_ok());
        steps.push(r);
    }
    Ok(Calibration {
        knee: search.good,
        fair_rate: search.good.map(|k| k * FAIR_SHARE),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_slos() {
        let s = parse_slo("p99<250ms,errors<1%").unwrap();
        assert_eq!(
            s,
            Slo {
                p99_ms: Some(250.0),
                error_pct: Some(1.0)
            }
        );
        assert!(parse_slo("p95<1ms").is_err());
        assert!(parse_slo("").is_err());
        assert!(parse_slo("errors<1").is_err());
    }

    #[test]
    fn search_brackets_a_known_capacity() {
        for capacity in [37.0, 200.0, 1234.0] {
            let mut s = Search::new(10.0, 1e6, 0.05);
            let mut steps = 0;
            while let Some(r) = s.next_rate() {
                s.record(r, r <= capacity);
                steps += 1;
                assert!(steps < 40);
            }
            let knee = s.good.unwrap();
            assert!(
                knee <= capacity && knee >= capacity * 0.95,
                "{capacity}: {knee}"
            );
        }
    }

    #[test]
    fn search_stops_when_even_the_lowest_rate_fails_or_at_the_cap() {
        let mut s = Search::new(4.0, 1e6, 0.05);
        while let Some(r) = s.next_rate() {
            s.record(r, false);
        }
        assert_eq!(s.good, None);
        let mut s = Search::new(10.0, 100.0, 0.05);
        while let Some(r) = s.next_rate() {
            s.record(r, true);
        }
        assert_eq!(s.good, Some(100.0));
    }
}
