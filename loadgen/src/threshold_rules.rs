//! A scenario's thresholds as perfwatch threshold rules on the run's series, so that a
//! later run breaching one alerts like any threshold (`perfwatch load --submit`).
//!
//! A stored rule judges the run's level of a series (the median of its per-second
//! samples), not the run-wide percentile the end-of-run check uses; only thresholds
//! whose metric a series carries per second can be stored (see [`rule_for`]).

use serde_json::{json, Value};

use crate::threshold::{Cmp, Metric, Threshold};

/// The series a threshold becomes a rule on, and the rule's bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTarget {
    /// The operation (the series' benchmark), or `*` for every operation of the run.
    pub op: String,
    /// The series' measure (see `results`).
    pub measure: &'static str,
    /// The `class` parameter of a per-class error rate.
    pub class: Option<String>,
    /// The unit the bounds are in, as the run submits the series (`ms`, `%`, `ops/s`);
    /// the caller converts to the series' stored unit.
    pub unit: &'static str,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl RuleTarget {
    /// The `static` threshold rule (API body `rule`) with the bounds multiplied by
    /// `factor` (the unit's factor to the stored unit, e.g. 1e6 from ms to ns).
    pub fn rule_json(&self, factor: f64) -> Value {
        let mut rule = json!({"kind": "static"});
        if let Some(min) = self.min {
            rule["min"] = json!(min * factor);
        }
        if let Some(max) = self.max {
            rule["max"] = json!(max * factor);
        }
        rule
    }
}

/// The rule a threshold is stored as, or why it cannot be: a run-wide percentile other
/// than p50 and p99, and error counts, have no per-second series to judge.
pub fn rule_for(t: &Threshold) -> Result<RuleTarget, String> {
    let (measure, unit, class) = match &t.metric {
        Metric::Response(q) if *q == 50.0 => ("response_time", "ms", None),
        Metric::Response(q) if *q == 99.0 => ("response_p99", "ms", None),
        Metric::Service(q) if *q == 50.0 => ("service_time", "ms", None),
        Metric::Service(q) if *q == 99.0 => ("service_p99", "ms", None),
        Metric::Response(_) | Metric::Service(_) => {
            return Err(format!(
                "`{}`: only p50 and p99 have a series to judge",
                t.key
            ))
        }
        Metric::ErrorRate(class) => ("error_rate", "%", class.clone()),
        Metric::Throughput => ("throughput", "ops/s", None),
        Metric::Errors(_) => {
            return Err(format!(
                "`{}`: error counts have no series; use error_rate",
                t.key
            ))
        }
    };
    let (min, max) = match t.cmp {
        Cmp::Lt | Cmp::Le => (None, Some(t.limit)),
        Cmp::Gt | Cmp::Ge => (Some(t.limit), None),
    };
    Ok(RuleTarget {
        op: t.op.clone(),
        measure,
        class,
        unit,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::parse_threshold;

    #[test]
    fn latency_error_rate_and_throughput_become_static_rules() {
        let r = rule_for(&parse_threshold("create_group.latency.p99", "< 250ms").unwrap()).unwrap();
        assert_eq!(
            (r.op.as_str(), r.measure, r.unit),
            ("create_group", "response_p99", "ms")
        );
        assert_eq!(r.rule_json(1e6), json!({"kind": "static", "max": 250e6}));

        let r =
            rule_for(&parse_threshold("*.error_rate{class=timeout}", "<= 1%").unwrap()).unwrap();
        assert_eq!((r.op.as_str(), r.measure), ("*", "error_rate"));
        assert_eq!(r.class.as_deref(), Some("timeout"));
        assert_eq!(r.max, Some(1.0));

        let r = rule_for(&parse_threshold("a.throughput", "> 100/s").unwrap()).unwrap();
        assert_eq!(r.rule_json(1.0), json!({"kind": "static", "min": 100.0}));

        let r = rule_for(&parse_threshold("a.service.p50", ">= 1ms").unwrap()).unwrap();
        assert_eq!((r.measure, r.min), ("service_time", Some(1.0)));
    }

    #[test]
    fn thresholds_without_a_series_are_not_stored() {
        let e = rule_for(&parse_threshold("a.latency.p90", "< 5ms").unwrap()).unwrap_err();
        assert!(
            e.contains("a.latency.p90") && e.contains("p50 and p99"),
            "{e}"
        );
        let e = rule_for(&parse_threshold("a.errors", "< 5").unwrap()).unwrap_err();
        assert!(e.contains("error_rate"), "{e}");
    }
}
