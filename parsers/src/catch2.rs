//! Catch2 console reporter output (the default, `./tests [!benchmark]`):
//!
//! ```text
//! -------------------------------------------------------------------------------
//! Fibonacci
//! -------------------------------------------------------------------------------
//! benchmark name                       samples       iterations    est run time
//!                                      mean          low mean      high mean
//!                                      std dev       low std dev   high std dev
//! -------------------------------------------------------------------------------
//! fib 10                                          20            66     720.72 us
//!                                         264.244 ns    261.254 ns    275.711 ns
//!                                         12.0815 ns   0.482791 ns    24.0461 ns
//! ```
//!
//! Each row gives one benchmark named `<test case>[/<section>…]/<name>` (as the XML
//! parser does) whose one sample is the mean, converted to ns (Catch2 picks the unit per
//! value). Names wrapped over several lines are joined (a word Catch2 split with a
//! hyphen at the column edge is joined back without it). The estimated run time, bounds
//! and standard deviation are ignored.

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::criterion::to_ns;
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Catch2;

#[derive(PartialEq)]
enum Mode {
    Idle,
    CaseName,
    TableHeader,
    Table,
}

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let no_params = Params::new();
    let mut mode = Mode::Idle;
    let mut case: Vec<String> = Vec::new();
    let mut wrapped: Vec<String> = Vec::new();
    // A row read, waiting for its mean line: (name, iterations, line).
    let mut row: Option<(String, u64, usize)> = None;
    // The name column's width, from the header: Catch2 wraps names at width − 2.
    let mut name_width = 0;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.len() >= 20 && t.bytes().all(|b| b == b'-') {
            mode = match mode {
                Mode::TableHeader => Mode::Table,
                Mode::CaseName => Mode::Idle,
                _ => {
                    case.clear();
                    Mode::CaseName
                }
            };
            wrapped.clear();
            continue;
        }
        if t.len() >= 20 && t.bytes().all(|b| b == b'=') {
            mode = Mode::Idle;
            continue;
        }
        if t.starts_with("benchmark name") {
            if let Some(at) = line.find("samples") {
                name_width = line.get(..at).map_or(0, |h| h.chars().count());
            }
            mode = Mode::TableHeader;
            continue;
        }
        match mode {
            Mode::CaseName => {
                if !t.is_empty() {
                    case.push(t.to_string());
                }
            }
            Mode::Table => {
                if t.is_empty() {
                    continue;
                }
                if let Some((name, iters, row_line)) = row.take() {
                    let mean = mean_of(t).ok_or_else(|| {
                        ParseError::line(
                            F,
                            n,
                            "\"<mean> <unit> <low mean> <unit> <high mean> <unit>\" below the row",
                        )
                    })?;
                    let mut full = case.join("/");
                    if !full.is_empty() {
                        full.push('/');
                    }
                    full.push_str(&name);
                    series
                        .add(Obs {
                            benchmark: &full,
                            params: &no_params,
                            measure: "time",
                            unit: "ns",
                            direction: Some(Direction::Lower),
                            samples: &[mean],
                            iterations: Some(iters),
                        })
                        .map_err(at_line(F, row_line))?;
                    continue;
                }
                if let Some((head, iters)) = row_of(line) {
                    wrapped.push(head.trim().to_string());
                    let name = join_wrapped(&wrapped, name_width);
                    wrapped.clear();
                    if name.is_empty() {
                        return Err(ParseError::line(
                            F,
                            n,
                            "a benchmark name before the samples column",
                        ));
                    }
                    row = Some((name, iters, n));
                } else if mean_of(t).is_none() {
                    // The std dev line after a mean, or a long name wrapped onto its own line.
                    wrapped.push(t.to_string());
                } else {
                    wrapped.clear();
                }
            }
            Mode::Idle | Mode::TableHeader => {}
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// Joins the lines of a wrapped name. Catch2 breaks at spaces, or inside a word too
/// long for the column with a `-` appended: a full-width part ending in `-` continues
/// the word.
fn join_wrapped(parts: &[String], name_width: usize) -> String {
    let mut name = String::new();
    let mut hyphenated = false;
    for part in parts.iter().filter(|s| !s.is_empty()) {
        if hyphenated {
            name.pop();
        } else if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(part);
        hyphenated =
            part.ends_with('-') && name_width > 2 && part.chars().count() == name_width - 2;
    }
    name
}

/// `<name> <samples> <iterations> <est> <unit>` → (name, iterations).
fn row_of(line: &str) -> Option<(&str, u64)> {
    let (rest, unit) = last_token(line)?;
    let (rest, est) = last_token(rest)?;
    let (rest, iters) = last_token(rest)?;
    let (head, samples) = last_token(rest)?;
    finite(est)?;
    to_ns(1.0, unit)?;
    samples.parse::<u64>().ok()?;
    Some((head, iters.parse::<u64>().ok()?))
}

/// `264.244 ns    261.254 ns    275.711 ns` → the first value in ns.
fn mean_of(t: &str) -> Option<f64> {
    let tokens: Vec<&str> = t.split_whitespace().collect();
    match tokens.as_slice() {
        [v, u, v2, u2, v3, u3] => {
            to_ns(finite(v2)?, u2)?;
            to_ns(finite(v3)?, u3)?;
            to_ns(finite(v)?, u)
        }
        _ => None,
    }
}

/// Splits off the last whitespace-separated token.
fn last_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_end();
    match s.rfind(char::is_whitespace) {
        Some(at) => Some((s.get(..at)?, s.get(at..)?.trim_start())),
        None if !s.is_empty() => Some(("", s)),
        None => None,
    }
}
