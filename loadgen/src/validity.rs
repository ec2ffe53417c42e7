//! The validity gate: a run the generator could not drive honestly is stored and shown,
//! but marked invalid (with the reasons) so detection and verdicts leave it out.

use crate::report::Report;

/// Limits of the gate; the defaults are the documented ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    /// Mean generator CPU over the run, in % of the cores it may use.
    pub max_generator_cpu: f64,
    /// Achieved rate at least this share of the target (open model).
    pub min_rate_share: f64,
    /// p99 scheduling lag at most this many ms (open model).
    pub max_lag_p99_ms: f64,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            max_generator_cpu: 80.0,
            min_rate_share: 0.95,
            max_lag_p99_ms: 5.0,
        }
    }
}

/// Why the run is invalid; empty when it is valid. `cores` is how many cores the
/// generator's runtime uses (its CPU % is of one core).
pub fn reasons(report: &Report, gate: &Gate, cores: usize) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = &report.aborted {
        out.push(format!("the run ended early: {a}"));
    }
    let cpu = &report.generator.cpu_percent;
    if !cpu.is_empty() {
        let mean = cpu.iter().sum::<f64>() / cpu.len() as f64 / cores.max(1) as f64;
        if mean > gate.max_generator_cpu {
            out.push(format!(
                "generator CPU {mean:.0}% > {:.0}%: the generator, not the service, may be the bottleneck",
                gate.max_generator_cpu
            ));
        }
    }
    if let Some(target) = report.target_rate.filter(|t| *t > 0.0) {
        let achieved = report.achieved_rate();
        if achieved < target * gate.min_rate_share {
            out.push(format!(
                "achieved rate {achieved:.1}/s < {:.0}% of the target {target:.1}/s",
                gate.min_rate_share * 100.0
            ));
        }
        if report.lag.p99 > gate.max_lag_p99_ms {
            out.push(format!(
                "p99 scheduling lag {:.2} ms > {} ms: arrivals started late",
                report.lag.p99, gate.max_lag_p99_ms
            ));
        }
    }
    if report.dropped > 0 {
        out.push(format!(
            "{} arrivals dropped at max_in_flight",
            report.dropped
        ));
    }
    if let Some(e) = &report.probe_error {
        out.push(format!("service probe failed: {e}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Percentiles;
    use crate::testing::empty_report;

    #[test]
    fn a_clean_run_is_valid() {
        let r = empty_report();
        assert!(reasons(&r, &Gate::default(), 1).is_empty());
    }

    #[test]
    fn each_rule_gives_its_reason() {
        let mut r = empty_report();
        r.started = 900; // 90/s of 100/s
        r.dropped = 3;
        r.lag = Percentiles {
            p99: 7.5,
            ..Percentiles::default()
        };
        r.generator.cpu_percent = vec![170.0, 190.0];
        r.probe_error = Some("pid 42 is gone".into());
        r.aborted = Some("driver exited".into());
        let why = reasons(&r, &Gate::default(), 2).join("\n");
        for part in [
            "ended early",
            "generator CPU 90%",
            "achieved rate 90.0/s",
            "lag 7.50",
            "3 arrivals dropped",
            "pid 42",
        ] {
            assert!(why.contains(part), "{part} missing in {why}");
        }
        assert!(reasons(&r, &Gate::default(), 4)
            .iter()
            .all(|w| !w.contains("generator CPU")));
    }
}
