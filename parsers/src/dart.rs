//! Dart `benchmark_harness` output: `BenchmarkBase.report()` prints one line per
//! benchmark,
//!
//! ```text
//! Template(RunTime): 1.0 us.
//! ```
//!
//! the average time of one `run()` call (`exercise()` runs it ten times per measured
//! call, the harness divides). Measure `time` for `RunTime` (other metric names in snake
//! case), unit as printed (`us`), one sample. Other lines are skipped; a line shaped
//! `<name>(<metric>): …` whose value cannot be read is an error.

use perfwatch_core::Direction;

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Dart;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let no_params = Params::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let Some((name, metric, rest)) = head(line) else {
            continue;
        };
        let (value, unit) = value_of(rest)
            .ok_or_else(|| ParseError::line(F, n, "\"<name>(RunTime): <value> us.\""))?;
        let measure = if metric == "RunTime" {
            "time".to_string()
        } else {
            metric.to_ascii_lowercase()
        };
        series
            .add(Obs {
                benchmark: name,
                params: &no_params,
                measure: &measure,
                unit,
                direction: Some(Direction::Lower),
                samples: &[value],
                iterations: None,
            })
            .map_err(at_line(F, n))?;
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// `Template(RunTime): rest` → ("Template", "RunTime", "rest").
fn head(line: &str) -> Option<(&str, &str, &str)> {
    let (left, rest) = line.trim().split_once("): ")?;
    let (name, metric) = left.rsplit_once('(')?;
    let ok = !name.trim().is_empty()
        && metric.starts_with("RunTime")
        && metric.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then_some((name.trim(), metric, rest))
}

/// `1.0 us.` → (1.0, "us").
fn value_of(rest: &str) -> Option<(f64, &'static str)> {
    let mut it = rest.trim().trim_end_matches('.').split_whitespace();
    let v = finite(it.next()?)?;
    let unit = match it.next()? {
        "us" | "µs" => "us",
        "ns" => "ns",
        "ms" => "ms",
        "s" => "s",
        _ => return None,
    };
    Some((v, unit))
}

/// A `<name>(RunTime): <value> <unit>.` line.
pub(crate) fn looks_like(t: &str) -> bool {
    t.lines()
        .any(|l| head(l).is_some_and(|(_, _, r)| value_of(r).is_some()))
}
