//! `cargo bench` with libtest's `#[bench]` (and Criterion's `--output-format bencher`,
//! which prints the same lines):
//!
//! ```text
//! test bench_fib_20 ... bench:      18,149 ns/iter (+/- 755)
//! test parse        ... bench:       1,234.56 ns/iter (+/- 7.8) = 800 MB/s
//! ```
//!
//! Custom measurements print their own unit: `2835 cycles/iter` is measure `cycles` in
//! unit `cycles`, `1911 MS/s` is measure `throughput` in `MS/s`.
//!
//! The value is time per iteration, emitted in the unit printed (`ns`, or `µs`/`ms`/`s`
//! in harnesses that scale the value, e.g. `8.2 µs/iter`); the core converts all of them
//! to ns, so a suite whose values cross a unit boundary keeps one series. Criterion
//! reports the same unit, so switching output style keeps one series too. An output that
//! only ran tests (`running 0 tests`) is detected as libtest and refused with "no
//! benchmarks in this libtest output". The `(+/- …)` figure is the max−min
//! range of libtest's samples, not a spread we can use, so it is ignored. A benchmark
//! that panicked (`test x ... FAILED`) is listed under `failed_benchmarks`.

use crate::common::{at_line, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const EXPECTED: &str =
    "\"bench: <value> ns/iter (+/- <range>)\" (or µs/iter, ms/iter, s/iter) after the benchmark name";

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let f = Format::Libtest;
    let mut series = Series::default();
    let no_params = Params::new();
    let mut failed = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let Some(rest) = line.trim_start().strip_prefix("test ") else {
            continue;
        };
        // `test name ... ok` / `... ignored` are tests, not benchmarks.
        let Some((name, outcome)) = rest.split_once(" ... ") else {
            continue;
        };
        let outcome = outcome.trim();
        if outcome == "FAILED" {
            failed.push(serde_json::Value::from(name.trim()));
            continue;
        }
        let Some(result) = outcome.strip_prefix("bench:") else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(ParseError::line(f, n, "a benchmark name after \"test\""));
        }
        let (value, unit, throughput) =
            bench_value(result).ok_or_else(|| ParseError::line(f, n, EXPECTED))?;
        // Custom measurements print their own unit per iteration (`cycles/iter`) or a
        // rate (`MS/s`); time units are measure `time`.
        let (measure, direction) = match unit {
            "ns" | "µs" | "ms" | "s" => ("time", Direction::Lower),
            u if u.ends_with("/s") => ("throughput", Direction::Higher),
            u => (u, Direction::Lower),
        };
        series
            .add(Obs {
                benchmark: name,
                params: &no_params,
                measure,
                unit,
                direction: Some(direction),
                samples: &[value],
                iterations: None,
            })
            .map_err(at_line(f, n))?;
        if let Some((mbs, unit)) = throughput {
            series
                .add(Obs {
                    benchmark: name,
                    params: &no_params,
                    measure: "throughput",
                    unit,
                    direction: Some(Direction::Higher),
                    samples: &[mbs],
                    iterations: None,
                })
                .map_err(at_line(f, n))?;
        }
    }
    let mut metadata = serde_json::Map::new();
    if !failed.is_empty() {
        metadata.insert("failed_benchmarks".into(), serde_json::Value::Array(failed));
    }
    Ok(Parsed {
        results: series.finish(f)?,
        metadata,
        testbed_hint: None,
    })
}

type Throughput<'a> = Option<(f64, &'a str)>;

/// `  1,234.5 ns/iter (+/- 56) = 800 MB/s` → (1234.5, "ns", Some((800, "MB/s"))).
fn bench_value(s: &str) -> Option<(f64, &str, Throughput<'_>)> {
    let mut it = s.split_whitespace();
    let value = number(it.next()?)?;
    let token = it.next()?;
    let unit = match token.strip_suffix("/iter") {
        Some("ns") => "ns",
        Some("µs" | "μs" | "us") => "µs",
        Some("ms") => "ms",
        Some("s") => "s",
        Some(other) if is_unit_word(other) => other,
        None if token.ends_with("/s") && is_unit_word(token.trim_end_matches("/s")) => token,
        _ => return None,
    };
    let throughput = match s.split_once(" = ") {
        Some((_, t)) => {
            let mut t = t.split_whitespace();
            let v = number(t.next()?)?;
            Some((v, t.next()?))
        }
        None => None,
    };
    Some((value, unit, throughput))
}

/// A custom measurement's unit: letters only (`cycles`, `MS`), never a number.
fn is_unit_word(u: &str) -> bool {
    !u.is_empty() && u.len() <= 32 && u.chars().all(|c| c.is_alphabetic())
}

/// libtest groups digits with commas (`18,149`); newer versions print decimals.
fn number(s: &str) -> Option<f64> {
    crate::common::finite(&s.replace(',', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_with_commas_decimals_and_throughput() {
        let p =
            parse("test a ... bench:       1,234.5 ns/iter (+/- 7) = 800 MB/s\ntest b ... ok\n")
                .unwrap();
        assert_eq!(p.results[0].samples, vec![1234.5]);
        assert_eq!(p.results[1].measure, "throughput");
        assert_eq!(p.results[1].unit, "MB/s");
    }

    #[test]
    fn scaled_units_per_iteration_are_kept_as_printed() {
        let p = parse(
            "test a ... bench:           8.2 µs/iter (+/- 0.5)\ntest b ... bench: 1.5 ms/iter (+/- 0.1)\ntest c ... bench: 2 s/iter (+/- 0)\n",
        )
        .unwrap();
        let units: Vec<_> = p
            .results
            .iter()
            .map(|r| (r.unit.as_str(), r.samples[0]))
            .collect();
        assert_eq!(units, vec![("µs", 8.2), ("ms", 1.5), ("s", 2.0)]);
    }

    #[test]
    fn a_test_only_output_says_there_are_no_benchmarks() {
        let e = parse("running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("no benchmarks in this libtest output"),
            "{e}"
        );
    }

    #[test]
    fn a_malformed_bench_line_is_an_error() {
        let e = parse("test a ... bench: fast\n").unwrap_err();
        assert!(
            e.to_string().starts_with("libtest: line 1: expected"),
            "{e}"
        );
    }
}
