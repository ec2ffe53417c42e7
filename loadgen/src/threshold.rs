//! Threshold expressions, checked when the run ends (exit code 99 on a breach):
//! `"create_group.latency.p99" = "< 250ms"`, `"*.error_rate{class=connection}" = "< 0.1%"`.

use crate::report::{OpReport, Report};
use crate::units::{parse_quantity, Quantity};

#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Response time (from the intended start) at a percentile, ms.
    Response(f64),
    /// Service time (from the actual start) at a percentile, ms.
    Service(f64),
    /// Failed attempts in %, of one class or all.
    ErrorRate(Option<String>),
    /// Failed attempts, of one class or all.
    Errors(Option<String>),
    /// Attempts per second.
    Throughput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The key as written.
    pub key: String,
    /// An operation name, or `*` for every operation.
    pub op: String,
    pub metric: Metric,
    pub cmp: Cmp,
    pub limit: f64,
    pub limit_text: String,
}

/// One threshold checked against one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub key: String,
    pub op: String,
    pub observed: f64,
    pub limit_text: String,
    pub passed: bool,
}

fn percentile(p: &str) -> Result<f64, String> {
    let digits = p
        .strip_prefix('p')
        .ok_or_else(|| format!("`{p}` is not a percentile (p50, p90, p99, p99.9)"))?;
    let q: f64 = match digits {
        "999" => 99.9,
        d => d
            .parse()
            .map_err(|_| format!("`{p}` is not a percentile (p50, p90, p99, p99.9)"))?,
    };
    if [50.0, 90.0, 99.0, 99.9, 100.0].contains(&q) {
        Ok(q)
    } else {
        Err(format!(
            "percentile `{p}` is not kept (p50, p90, p99, p99.9, p100)"
        ))
    }
}

/// Parses the key (`op.metric[{class=X}]`) and the expression (`< 250ms`).
pub fn parse_threshold(key: &str, expr: &str) -> Result<Threshold, String> {
    let (path, class) = match key.split_once('{') {
        Some((p, rest)) => {
            let inner = rest
                .strip_suffix('}')
                .ok_or_else(|| format!("`{key}`: `{{` without a closing `}}`"))?;
            let (k, v) = inner
                .split_once('=')
                .ok_or_else(|| format!("`{key}`: write the filter as {{class=NAME}}"))?;
            if k.trim() != "class" {
                return Err(format!("`{key}`: only {{class=NAME}} filters are known"));
            }
            (p, Some(v.trim().to_string()))
        }
        None => (key, None),
    };
    let (op, metric) = path
        .split_once('.')
        .ok_or_else(|| format!("`{key}`: write OP.METRIC, e.g. create_group.latency.p99"))?;
    let parts: Vec<&str> = metric.split('.').collect();
    let metric = match (parts.as_slice(), &class) {
        (["latency" | "response", p], None) => Metric::Response(percentile(p)?),
        (["service", p], None) => Metric::Service(percentile(p)?),
        (["error_rate"], _) => Metric::ErrorRate(class),
        (["errors"], _) => Metric::Errors(class),
        (["throughput"], None) => Metric::Throughput,
        (_, Some(_)) => {
            return Err(format!(
                "`{key}`: a class filter applies to error_rate and errors only"
            ))
        }
        _ => {
            return Err(format!(
                "`{key}`: unknown metric `{metric}` (latency.pNN, service.pNN, error_rate, errors, throughput)"
            ))
        }
    };
    let e = expr.trim();
    let (cmp, rest) = if let Some(r) = e.strip_prefix("<=") {
        (Cmp::Le, r)
    } else if let Some(r) = e.strip_prefix(">=") {
        (Cmp::Ge, r)
    } else if let Some(r) = e.strip_prefix('<') {
        (Cmp::Lt, r)
    } else if let Some(r) = e.strip_prefix('>') {
        (Cmp::Gt, r)
    } else {
        return Err(format!("`{expr}`: start with <, <=, > or >="));
    };
    let q = parse_quantity(rest)?;
    let fits = matches!(
        (&metric, q),
        (
            Metric::Response(_) | Metric::Service(_),
            Quantity::Millis(_)
        ) | (Metric::ErrorRate(_), Quantity::Percent(_))
            | (Metric::Errors(_), Quantity::Plain(_))
            | (Metric::Throughput, Quantity::PerSecond(_))
    );
    if !fits {
        let want = match metric {
            Metric::Response(_) | Metric::Service(_) => "a duration such as 250ms",
            Metric::ErrorRate(_) => "a percentage such as 0.1%",
            Metric::Errors(_) => "a count such as 10",
            Metric::Throughput => "a rate such as 100/s",
        };
        return Err(format!("`{expr}`: {key} needs {want}"));
    }
    Ok(Threshold {
        key: key.to_string(),
        op: op.to_string(),
        metric,
        cmp,
        limit: q.value(),
        limit_text: e.to_string(),
    })
}

fn observe(m: &Metric, op: &OpReport, seconds: f64) -> f64 {
    match m {
        Metric::Response(q) => op.response.at(*q).unwrap_or(f64::NAN),
        Metric::Service(q) => op.service.at(*q).unwrap_or(f64::NAN),
        Metric::ErrorRate(c) => op.error_rate(c.as_deref()),
        Metric::Errors(c) => op.error_count(c.as_deref()) as f64,
        Metric::Throughput => op.throughput(seconds),
    }
}

/// Every threshold against every operation it names (`*`: all of them).
pub fn evaluate(thresholds: &[Threshold], report: &Report) -> Vec<Outcome> {
    let mut out = Vec::new();
    for t in thresholds {
        for op in report.ops.iter().filter(|o| t.op == "*" || t.op == o.name) {
            let v = observe(&t.metric, op, report.measured_seconds);
            let passed = match t.cmp {
                Cmp::Lt => v < t.limit,
                Cmp::Le => v <= t.limit,
                Cmp::Gt => v > t.limit,
                Cmp::Ge => v >= t.limit,
            };
            out.push(Outcome {
                key: t.key.clone(),
                op: op.name.clone(),
                observed: v,
                limit_text: t.limit_text.clone(),
                passed,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parses_keys_and_expressions() {
        let t = parse_threshold("create_group.latency.p99", "< 250ms").unwrap();
        assert_eq!(t.metric, Metric::Response(99.0));
        assert_eq!((t.cmp, t.limit), (Cmp::Lt, 250.0));
        let t = parse_threshold("*.error_rate{class=connection}", "< 0.1%").unwrap();
        assert_eq!(t.metric, Metric::ErrorRate(Some("connection".into())));
        assert_eq!(t.op, "*");
        assert!(parse_threshold("x.latency.p98", "< 1ms").is_err());
        assert!(parse_threshold("x.latency.p99", "< 1%")
            .unwrap_err()
            .contains("duration"));
        assert!(parse_threshold("x.latency.p99", "250ms").is_err());
        assert!(parse_threshold("x.throughput{class=a}", "> 1/s").is_err());
        assert!(parse_threshold("nodot", "< 1ms").is_err());
    }

    #[test]
    fn per_class_threshold_fails_only_the_op_that_breaches() {
        let op = |name: &str, conn: u64| OpReport {
            name: name.into(),
            attempts: 100,
            ok: 100 - conn,
            errors: BTreeMap::from([("connection".to_string(), conn)]),
            ..OpReport::default()
        };
        let report = Report {
            ops: vec![op("a", 0), op("b", 2)],
            ..crate::testing::empty_report()
        };
        let t = parse_threshold("*.error_rate{class=connection}", "< 1%").unwrap();
        let out = evaluate(&[t], &report);
        assert_eq!(out.len(), 2);
        assert!(out[0].passed);
        assert!(!out[1].passed);
        assert_eq!(out[1].observed, 2.0);
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(k in "\\PC{0,30}", e in "\\PC{0,12}") {
            let _ = parse_threshold(&k, &e);
        }
    }
}
