//! Criterion console output (`cargo bench` with Criterion's default reporter):
//!
//! ```text
//! sum/1000                time:   [150.56 ns 153.13 ns 156.51 ns]
//!                         thrpt:  [6.3893 Gelem/s 6.5303 Gelem/s 6.6418 Gelem/s]
//!                  change:
//!                         time:   [-8.3582% +1.6596% +11.305%] (p = 0.75 > 0.05)
//! ```
//!
//! The middle figure (Criterion's point estimate) is the one sample; the interval
//! bounds have no place in a result and are dropped. Times are converted to `ns` and
//! throughputs to `elem/s` or `B/s` because Criterion picks the prefix per value
//! (a series crossing 1 µs would otherwise change unit). Change lines (percentages)
//! are Criterion's own comparison with its previous run and are ignored. A name too long
//! for the column is printed on its own line before `time:`; that is handled.

use crate::common::{at_line, finite, split_params, Obs, Series};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const EXPECTED_TRIPLE: &str = "\"[<low> <unit> <estimate> <unit> <high> <unit>]\"";

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let f = Format::Criterion;
    let mut series = Series::default();
    let mut previous_line: Option<&str> = None;
    let mut current: Option<String> = None;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        if let Some((head, triple)) = labelled(line, "time:") {
            if triple.contains('%') {
                continue; // change: time: [-8% +1% +11%]
            }
            let name = match head.trim() {
                "" => previous_line.map(str::trim).unwrap_or(""),
                h => h,
            };
            if name.is_empty() {
                return Err(ParseError::line(f, n, "a benchmark name before \"time:\""));
            }
            let (value, unit) = estimate(triple)
                .and_then(|(v, u)| to_ns(v, u).map(|v| (v, "ns")))
                .ok_or_else(|| {
                    ParseError::line(f, n, format!("{EXPECTED_TRIPLE} of times after \"time:\""))
                })?;
            let (bench, params) = split_params(name, '=');
            series
                .add(Obs {
                    benchmark: &bench,
                    params: &params,
                    measure: "time",
                    unit,
                    direction: Some(Direction::Lower),
                    samples: &[value],
                    iterations: None,
                })
                .map_err(at_line(f, n))?;
            current = Some(name.to_string());
        } else if let Some((_, triple)) = labelled(line, "thrpt:") {
            if triple.contains('%') {
                continue;
            }
            let Some(name) = &current else {
                return Err(ParseError::line(f, n, "a \"time:\" line before \"thrpt:\""));
            };
            let (value, unit) = estimate(triple)
                .and_then(|(v, u)| to_base_rate(v, u))
                .ok_or_else(|| {
                    ParseError::line(f, n, format!("{EXPECTED_TRIPLE} of rates after \"thrpt:\""))
                })?;
            let (bench, params) = split_params(name, '=');
            series
                .add(Obs {
                    benchmark: &bench,
                    params: &params,
                    measure: "throughput",
                    unit,
                    direction: Some(Direction::Higher),
                    samples: &[value],
                    iterations: None,
                })
                .map_err(at_line(f, n))?;
        } else if !line.trim().is_empty() {
            // Any other line ends the current benchmark's block (a "thrpt:" can only
            // follow its "time:" or the change block).
            if !line.trim_start().starts_with("change:") && !line.starts_with(' ') {
                current = None;
            }
        }
        if !line.trim().is_empty() {
            previous_line = Some(line);
        }
    }
    Ok(Parsed {
        results: series.finish(f)?,
        ..Parsed::default()
    })
}

/// Splits `<head> label [ … ]` at the last `label` followed by `[`.
fn labelled<'a>(line: &'a str, label: &str) -> Option<(&'a str, &'a str)> {
    let at = line.rfind(label)?;
    let head = line.get(..at)?;
    let rest = line.get(at + label.len()..)?.trim_start();
    rest.starts_with('[').then_some((head, rest))
}

/// The middle value and its unit from `[a u b u c u] …`.
fn estimate(s: &str) -> Option<(f64, &str)> {
    let inner = s.strip_prefix('[')?.split(']').next()?;
    let t: Vec<&str> = inner.split_whitespace().collect();
    match t.as_slice() {
        [_, _, v, u, _, _] => Some((finite(v)?, *u)),
        _ => None,
    }
}

/// Criterion's time units to nanoseconds.
pub(crate) fn to_ns(v: f64, unit: &str) -> Option<f64> {
    let factor = match unit {
        "ps" => 1e-3,
        "ns" => 1.0,
        "µs" | "μs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(v * factor)
}

/// Criterion's throughput units to elements or bytes per second.
fn to_base_rate(v: f64, unit: &str) -> Option<(f64, &'static str)> {
    let (factor, base) = match unit {
        "elem/s" => (1.0, "elem/s"),
        "Kelem/s" => (1e3, "elem/s"),
        "Melem/s" => (1e6, "elem/s"),
        "Gelem/s" => (1e9, "elem/s"),
        "B/s" => (1.0, "B/s"),
        "KiB/s" => (1024.0, "B/s"),
        "MiB/s" => (1024.0 * 1024.0, "B/s"),
        "GiB/s" => (1024.0 * 1024.0 * 1024.0, "B/s"),
        "TiB/s" => (1024.0 * 1024.0 * 1024.0 * 1024.0, "B/s"),
        "KB/s" | "kB/s" => (1e3, "B/s"),
        "MB/s" => (1e6, "B/s"),
        "GB/s" => (1e9, "B/s"),
        "TB/s" => (1e12, "B/s"),
        _ => return None,
    };
    let r = v * factor;
    r.is_finite().then_some((r, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_on_their_own_line_and_picoseconds() {
        let input = "a_very_long_benchmark_name_that_does_not_fit\n                        time:   [100.0 ps 200.0 ps 300.0 ps]\n";
        let p = parse(input).unwrap();
        assert_eq!(
            p.results[0].benchmark,
            "a_very_long_benchmark_name_that_does_not_fit"
        );
        assert!((p.results[0].samples[0] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn a_broken_triple_is_an_error() {
        let e = parse("x time: [1 ns 2 ns]\n").unwrap_err();
        assert!(
            e.to_string().starts_with("criterion: line 1: expected"),
            "{e}"
        );
    }
}
