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
    let mut r = Reader {
        series: Series::default(),
        mode: Mode::Idle,
        case: Vec::new(),
        wrapped: Vec::new(),
        row: None,
        name_width: 0,
    };
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if r.layout_line(line, t) {
            continue;
        }
        match r.mode {
            Mode::CaseName => {
                if !t.is_empty() {
                    r.case.push(t.to_string());
                }
            }
            Mode::Table => {
                if !t.is_empty() {
                    r.table_line(n, line, t)?;
                }
            }
            Mode::Idle | Mode::TableHeader => {}
        }
    }
    Ok(Parsed {
        results: r.series.finish(F)?,
        ..Parsed::default()
    })
}

/// What the reader knows between lines.
struct Reader {
    series: Series,
    mode: Mode,
    /// The test case and section names above the table.
    case: Vec<String>,
    /// Parts of a long benchmark name wrapped over several lines.
    wrapped: Vec<String>,
    /// A row read, waiting for its mean line: (name, iterations, line).
    row: Option<(String, u64, usize)>,
    /// The name column's width, from the header: Catch2 wraps names at width − 2.
    name_width: usize,
}

impl Reader {
    /// Rules (`---`, `===`) and the table header switch modes; true when `line` was one.
    fn layout_line(&mut self, line: &str, t: &str) -> bool {
        if t.len() >= 20 && t.bytes().all(|b| b == b'-') {
            self.mode = match self.mode {
                Mode::TableHeader => Mode::Table,
                Mode::CaseName => Mode::Idle,
                _ => {
                    self.case.clear();
                    Mode::CaseName
                }
            };
            self.wrapped.clear();
            return true;
        }
        if t.len() >= 20 && t.bytes().all(|b| b == b'=') {
            self.mode = Mode::Idle;
            return true;
        }
        if t.starts_with("benchmark name") {
            if let Some(at) = line.find("samples") {
                self.name_width = line.get(..at).map_or(0, |h| h.chars().count());
            }
            self.mode = Mode::TableHeader;
            return true;
        }
        false
    }

    /// A non-empty line of the table: the mean line below a row, a row, or a part of
    /// a wrapped name (the std dev line is skipped the same way).
    fn table_line(&mut self, n: usize, line: &str, t: &str) -> Result<(), ParseError> {
        if let Some((name, iters, row_line)) = self.row.take() {
            return self.add_mean(n, t, &name, iters, row_line);
        }
        if let Some((head, iters)) = row_of(line) {
            self.wrapped.push(head.trim().to_string());
            let name = join_wrapped(&self.wrapped, self.name_width);
            self.wrapped.clear();
            if name.is_empty() {
                return Err(ParseError::line(
                    F,
                    n,
                    "a benchmark name before the samples column",
                ));
            }
            self.row = Some((name, iters, n));
        } else if mean_of(t).is_none() {
            // The std dev line after a mean, or a long name wrapped onto its own line.
            self.wrapped.push(t.to_string());
        } else {
            self.wrapped.clear();
        }
        Ok(())
    }

    /// The mean line `t` (line `n`) of the row named `name` read on `row_line`.
    fn add_mean(
        &mut self,
        n: usize,
        t: &str,
        name: &str,
        iters: u64,
        row_line: usize,
    ) -> Result<(), ParseError> {
        let mean = mean_of(t).ok_or_else(|| {
            ParseError::line(
                F,
                n,
                "\"<mean> <unit> <low mean> <unit> <high mean> <unit>\" below the row",
            )
        })?;
        let mut full = self.case.join("/");
        if !full.is_empty() {
            full.push('/');
        }
        full.push_str(name);
        self.series
            .add(Obs {
                benchmark: &full,
                params: &Params::new(),
                measure: "time",
                unit: "ns",
                direction: Some(Direction::Lower),
                samples: &[mean],
                iterations: Some(iters),
            })
            .map_err(at_line(F, row_line))?;
        Ok(())
    }
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
