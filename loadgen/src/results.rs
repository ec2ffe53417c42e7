//! The finished run as a perfwatch native run: per-operation series with one sample
//! per measured second (so comparisons have variance), run-level series, and metadata.

use std::collections::BTreeMap;

use perfwatch_core::model::{ResultInput, RunSubmission};
use perfwatch_core::units::Direction;
use serde_json::{json, Map, Value};

use crate::report::{OpReport, Percentiles, Report};
use crate::threshold::Outcome;

/// What goes beside the results.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    pub scenario_hash: String,
    /// `open 200/s uniform`, `closed 10 VUs pacing 100ms`, …
    pub load_model: String,
    /// Generator host: OS, architecture, CPU model, cores.
    pub host: String,
    pub invalid_reasons: Vec<String>,
    pub thresholds: Vec<Outcome>,
}

fn series(
    benchmark: &str,
    measure: &str,
    unit: &str,
    direction: Direction,
    params: &BTreeMap<String, String>,
    samples: Vec<f64>,
) -> ResultInput {
    ResultInput {
        benchmark: benchmark.to_string(),
        measure: measure.to_string(),
        unit: unit.to_string(),
        direction: Some(direction),
        params: params.clone(),
        samples,
        ..ResultInput::default()
    }
}

fn with_percentiles(mut r: ResultInput, which: &[(&str, f64)]) -> ResultInput {
    for (k, v) in which {
        r.percentiles.insert((*k).to_string(), *v);
    }
    r
}

/// Per-second values of the seconds in which the operation ran; the overall value
/// when it ran in none (so a series always has a sample).
fn per_second(
    op: &OpReport,
    f: impl Fn(&crate::report::OpSecond) -> f64,
    overall: f64,
) -> Vec<f64> {
    let v: Vec<f64> = op
        .seconds
        .iter()
        .filter(|s| s.attempts > 0)
        .map(f)
        .collect();
    if v.is_empty() {
        vec![overall]
    } else {
        v
    }
}

fn op_series(op: &OpReport, params: &BTreeMap<String, String>, out: &mut Vec<ResultInput>) {
    if op.attempts == 0 {
        return;
    }
    let b = op.name.as_str();
    let all = |p: &Percentiles| {
        [
            ("50", p.p50),
            ("90", p.p90),
            ("99", p.p99),
            ("99.9", p.p999),
        ]
    };
    let r = series(
        b,
        "response_time",
        "ms",
        Direction::Lower,
        params,
        per_second(op, |s| s.response_p50, op.response.p50),
    );
    out.push(with_percentiles(r, &all(&op.response)));
    let r = series(
        b,
        "response_p99",
        "ms",
        Direction::Lower,
        params,
        per_second(op, |s| s.response_p99, op.response.p99),
    );
    out.push(with_percentiles(r, &[("99", op.response.p99)]));
    let r = series(
        b,
        "service_time",
        "ms",
        Direction::Lower,
        params,
        per_second(op, |s| s.service_p50, op.service.p50),
    );
    out.push(with_percentiles(r, &all(&op.service)));
    let r = series(
        b,
        "service_p99",
        "ms",
        Direction::Lower,
        params,
        per_second(op, |s| s.service_p99, op.service.p99),
    );
    out.push(with_percentiles(r, &[("99", op.service.p99)]));
    // Throughput counts every second of the window, idle ones too.
    let tput: Vec<f64> = op.seconds.iter().map(|s| s.attempts as f64).collect();
    out.push(series(
        b,
        "throughput",
        "ops/s",
        Direction::Higher,
        params,
        tput,
    ));
    let rate = |s: &crate::report::OpSecond| s.errors as f64 * 100.0 / s.attempts as f64;
    out.push(series(
        b,
        "error_rate",
        "%",
        Direction::Lower,
        params,
        per_second(op, rate, op.error_rate(None)),
    ));
    for class in op.errors.keys() {
        let mut p = params.clone();
        p.insert("class".into(), class.clone());
        out.push(series(
            b,
            "error_rate",
            "%",
            Direction::Lower,
            &p,
            vec![op.error_rate(Some(class))],
        ));
    }
}

/// The benchmark of the runner's own numbers (achieved rate, dropped arrivals,
/// scheduling lag, generator CPU): series of every run, so a noisy or saturated
/// generator shows as a trend of its own, apart from the service's numbers.
pub const RUNNER: &str = "loadgen";

pub fn to_run(report: &Report, meta: &RunMeta) -> RunSubmission {
    let params = BTreeMap::from([("scenario".to_string(), report.scenario.clone())]);
    let mut results = Vec::new();
    for op in &report.ops {
        op_series(op, &params, &mut results);
    }
    runner_series(report, &params, &mut results);
    resource_series(report, &params, &mut results);
    RunSubmission {
        project: String::new(),
        started_at: Some(report.started_at),
        finished_at: Some(report.finished_at),
        trigger: None,
        metadata: metadata(report, meta),
        results,
        ..RunSubmission::default()
    }
}

/// The runner's own health per second: achieved rate, dropped arrivals, scheduling lag.
fn runner_series(
    report: &Report,
    params: &BTreeMap<String, String>,
    results: &mut Vec<ResultInput>,
) {
    let started: Vec<f64> = report.seconds.iter().map(|s| s.started as f64).collect();
    if !started.is_empty() {
        results.push(series(
            RUNNER,
            "achieved_rate",
            "ops/s",
            Direction::Higher,
            params,
            started,
        ));
    }
    // Every second, so a run that dropped nothing has a flat zero line to compare with.
    let dropped: Vec<f64> = report.seconds.iter().map(|s| s.dropped as f64).collect();
    if !dropped.is_empty() {
        results.push(series(
            RUNNER,
            "dropped_arrivals",
            "arrivals/s",
            Direction::Lower,
            params,
            dropped,
        ));
    }
    let lag: Vec<f64> = report
        .seconds
        .iter()
        .filter(|s| s.started > 0)
        .map(|s| s.lag_p99)
        .collect();
    if !lag.is_empty() {
        let r = series(
            RUNNER,
            "scheduling_lag_p99",
            "ms",
            Direction::Lower,
            params,
            lag,
        );
        results.push(with_percentiles(
            r,
            &[("99", report.lag.p99), ("99.9", report.lag.p999)],
        ));
    }
}

/// The sampled service's CPU and memory (under the scenario's benchmark) and the
/// generator's CPU (under the runner's).
fn resource_series(
    report: &Report,
    params: &BTreeMap<String, String>,
    results: &mut Vec<ResultInput>,
) {
    let run = report.scenario.as_str();
    if let Some(s) = &report.service {
        if !s.cpu_percent.is_empty() {
            results.push(series(
                run,
                "service_cpu",
                "%",
                Direction::Lower,
                params,
                s.cpu_percent.clone(),
            ));
        }
        if !s.rss_bytes.is_empty() {
            results.push(series(
                run,
                "service_rss",
                "B",
                Direction::Lower,
                params,
                s.rss_bytes.clone(),
            ));
        }
    }
    if !report.generator.cpu_percent.is_empty() {
        results.push(series(
            RUNNER,
            "generator_cpu",
            "%",
            Direction::Lower,
            params,
            report.generator.cpu_percent.clone(),
        ));
    }
}

/// The run's metadata: harness, scenario, load model, rates, host, validity, error
/// examples and threshold outcomes.
fn metadata(report: &Report, meta: &RunMeta) -> Map<String, Value> {
    let mut md = Map::new();
    md.insert("harness".into(), json!("perfwatch-loadgen"));
    md.insert("scenario".into(), json!(report.scenario));
    md.insert("scenario_hash".into(), json!(meta.scenario_hash));
    md.insert("load_model".into(), json!(meta.load_model));
    if let Some(t) = report.target_rate {
        md.insert("target_rate".into(), json!(round(t)));
    }
    md.insert("achieved_rate".into(), json!(round(report.achieved_rate())));
    md.insert("dropped".into(), json!(report.dropped));
    md.insert("generator_host".into(), json!(meta.host));
    if let Some(v) = &report.service_version {
        md.insert("service_version".into(), json!(v));
    }
    md.insert("valid".into(), json!(meta.invalid_reasons.is_empty()));
    if !meta.invalid_reasons.is_empty() {
        md.insert("invalid_reasons".into(), json!(meta.invalid_reasons));
    }
    let examples: Map<String, Value> = report
        .ops
        .iter()
        .filter(|o| !o.examples.is_empty())
        .map(|o| (o.name.clone(), json!(o.examples)))
        .collect();
    if !examples.is_empty() {
        md.insert("error_examples".into(), Value::Object(examples));
    }
    if !meta.thresholds.is_empty() {
        let t: Vec<Value> = meta
            .thresholds
            .iter()
            .map(|o| json!({"key": o.key, "op": o.op, "observed": round(o.observed), "limit": o.limit_text, "passed": o.passed}))
            .collect();
        md.insert("thresholds".into(), json!(t));
    }
    md
}

fn round(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::OpSecond;
    use crate::testing::empty_report;

    #[test]
    fn runs_carry_interval_samples_and_validity() {
        let sec = |n: u64, e: u64| OpSecond {
            attempts: n,
            errors: e,
            response_p50: 2.0,
            response_p99: 9.0,
            service_p50: 1.0,
            service_p99: 3.0,
        };
        let op = OpReport {
            name: "create_group".into(),
            attempts: 300,
            ok: 297,
            errors: BTreeMap::from([("server".into(), 3)]),
            seconds: vec![sec(100, 0), sec(100, 3), sec(100, 0)],
            ..OpReport::default()
        };
        let mut report = empty_report();
        report.ops = vec![op];
        let second = |started: u64, dropped: u64| crate::report::RunSecond {
            started,
            dropped,
            lag_p99: 0.5,
        };
        report.seconds = vec![second(100, 0), second(97, 3), second(100, 0)];
        let meta = RunMeta {
            invalid_reasons: vec!["3 arrivals dropped".into()],
            ..RunMeta::default()
        };
        let run = to_run(&report, &meta);
        let find = |m: &str, class: Option<&str>| {
            run.results
                .iter()
                .find(|r| r.measure == m && r.params.get("class").map(String::as_str) == class)
                .unwrap()
        };
        assert_eq!(find("response_p99", None).samples, vec![9.0, 9.0, 9.0]);
        assert_eq!(find("throughput", None).samples, vec![100.0, 100.0, 100.0]);
        assert_eq!(find("error_rate", None).samples, vec![0.0, 3.0, 0.0]);
        assert_eq!(find("error_rate", Some("server")).samples, vec![1.0]);
        // The runner's own numbers are series of their own benchmark.
        let runner = |m: &str| {
            run.results
                .iter()
                .find(|r| r.benchmark == RUNNER && r.measure == m)
                .unwrap_or_else(|| panic!("loadgen {m}"))
        };
        assert_eq!(runner("dropped_arrivals").samples, vec![0.0, 3.0, 0.0]);
        assert_eq!(runner("achieved_rate").samples, vec![100.0, 97.0, 100.0]);
        assert_eq!(runner("scheduling_lag_p99").samples, vec![0.5; 3]);
        assert_eq!(run.metadata["valid"], false);
        assert_eq!(run.metadata["invalid_reasons"][0], "3 arrivals dropped");
        // what the server validates
        let mut r = run.clone();
        r.project = "p".into();
        perfwatch_core::validate::validate_run(r).unwrap();
    }
}
