//! Google Benchmark's console output (the default reporter):
//!
//! ```text
//! Benchmark                              Time             CPU   Iterations
//! BM_Sum/1024/repeats:3                626 ns          312 ns       243114 bytes_per_second=24.4375G/s
//! BM_Sum/1024/repeats:3_mean           579 ns          293 ns            3 …
//! ```
//!
//! Read like the JSON reporter (same names, parameters and measures, so switching
//! reporter keeps the series): `real_time` and `cpu_time` in the printed unit, one sample
//! per row, repetitions merged; aggregate rows (`_mean`, `_median`, `_stddev`, `_cv`,
//! BigO, RMS) skipped unless a benchmark has only aggregates, then its mean is the
//! sample. Counters `name=value` are read with their SI suffix (`k`, `M`, `G`, …, binary
//! for `bytes_per_second` as Google Benchmark uses; `/s` marks a rate) and `%` values
//! skipped. Rows that report an error (`ERROR OCCURRED`)
//! are listed under `failed_benchmarks`.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::gbench::{counter_unit, name_and_params};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::GbenchConsole;

const AGGREGATES: [&str; 6] = ["_mean", "_median", "_stddev", "_cv", "_BigO", "_RMS"];

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let mut in_table = false;
    let mut measured: HashSet<(String, Params)> = HashSet::new();
    let mut means: Vec<(usize, String)> = Vec::new();
    let mut failed = Vec::new();
    let mut metadata = Map::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if is_header(t) {
            in_table = true;
            continue;
        }
        if !in_table {
            if let Some(v) = t.strip_prefix("Run on (") {
                metadata.insert("machine".into(), Value::from(v.trim_end_matches(')')));
            } else if let Some(v) = t.strip_prefix("Load Average:") {
                metadata.insert("load_average".into(), Value::from(v.trim()));
            }
            continue;
        }
        if t.is_empty() || t.bytes().all(|b| b == b'-') {
            continue;
        }
        let name = t.split_whitespace().next().unwrap_or("");
        if t.contains("ERROR OCCURRED") {
            failed.push(Value::from(name));
            continue;
        }
        if let Some(agg) = AGGREGATES.iter().find(|a| name.ends_with(*a)) {
            if *agg == "_mean" {
                means.push((n, line.to_string()));
            }
            continue;
        }
        let (bench, params) = row(&mut series, line, n, true)?;
        measured.insert((bench, params));
    }
    for (n, line) in means {
        let base = line.split_whitespace().next().unwrap_or("");
        let (bench, params) = name_and_params(base.strip_suffix("_mean").unwrap_or(base));
        if !measured.contains(&(bench, params)) {
            row(&mut series, &line, n, false)?;
        }
    }
    if !failed.is_empty() {
        metadata.insert("failed_benchmarks".into(), Value::Array(failed));
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn is_header(t: &str) -> bool {
    let mut f = t.split_whitespace();
    f.next() == Some("Benchmark") && f.next() == Some("Time") && f.next() == Some("CPU")
}

/// Reads one result row into the series; returns its benchmark and params.
fn row(
    series: &mut Series,
    line: &str,
    n: usize,
    with_iterations: bool,
) -> Result<(String, Params), ParseError> {
    const EXPECTED: &str = "\"<name> <time> <unit> <cpu> <unit> <iterations> [counters]\"";
    let mut f = line.split_whitespace();
    let name = f.next().unwrap_or("");
    let name = name
        .strip_suffix("_mean")
        .filter(|_| !with_iterations)
        .unwrap_or(name);
    let next_time = |f: &mut std::str::SplitWhitespace<'_>| -> Option<(f64, &'static str)> {
        let v = finite(f.next()?)?;
        let u = match f.next()? {
            "ns" => "ns",
            "us" => "us",
            "ms" => "ms",
            "s" => "s",
            _ => return None,
        };
        Some((v, u))
    };
    let err = || ParseError::line(F, n, EXPECTED);
    let (real, unit) = next_time(&mut f).ok_or_else(err)?;
    let (cpu, cpu_unit) = next_time(&mut f).ok_or_else(err)?;
    let iters: u64 = f.next().and_then(|s| s.parse().ok()).ok_or_else(err)?;
    let iterations = with_iterations.then_some(iters);
    let (bench, params) = name_and_params(name);
    for (measure, x, unit) in [("real_time", real, unit), ("cpu_time", cpu, cpu_unit)] {
        series
            .add(Obs {
                benchmark: &bench,
                params: &params,
                measure,
                unit,
                direction: Some(Direction::Lower),
                samples: &[x],
                iterations,
            })
            .map_err(at_line(F, n))?;
    }
    for counter in f {
        let Some((key, value)) = counter.split_once('=') else {
            // A label printed after the counters: not a measure.
            continue;
        };
        if value.ends_with('%') {
            continue;
        }
        // SetBytesProcessed counters print with binary prefixes, all others decimal.
        let base = if key == "bytes_per_second" {
            1024.0
        } else {
            1000.0
        };
        let Some(x) = si_value(value.trim_end_matches("/s"), base) else {
            return Err(ParseError::line(
                F,
                n,
                format!("a number for counter {key}"),
            ));
        };
        let (unit, direction) = counter_unit(key);
        series
            .add(Obs {
                benchmark: &bench,
                params: &params,
                measure: key,
                unit: &unit,
                direction,
                samples: &[x],
                iterations,
            })
            .map_err(at_line(F, n))?;
    }
    Ok((bench, params))
}

/// `24.4375G` → 24.4375 × base³ (Google Benchmark prints counters with SI prefixes in
/// the counter's base: 1024 for bytes processed, 1000 otherwise).
fn si_value(s: &str, base: f64) -> Option<f64> {
    let (num, mult) = match s.char_indices().last()? {
        (at, c) if c.is_ascii_alphabetic() => {
            let m = match c {
                'k' | 'K' => base,
                'M' => base.powi(2),
                'G' => base.powi(3),
                'T' => base.powi(4),
                'P' => base.powi(5),
                'm' => 1.0 / base,
                'u' => 1.0 / base.powi(2),
                'n' => 1.0 / base.powi(3),
                _ => return None,
            };
            (s.get(..at)?, m)
        }
        _ => (s, 1.0),
    };
    finite(num).map(|v| v * mult)
}

/// The table header only the console reporter prints.
pub(crate) fn looks_like(t: &str) -> bool {
    t.lines().any(|l| is_header(l.trim()))
}
