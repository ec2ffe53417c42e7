//! benchmark.js console output, the line `String(event.target)` prints per cycle:
//!
//! ```text
//! RegExp#test x 23,956,017 ops/sec ±6.79% (56 runs sampled)
//! ```
//!
//! Measure `throughput` in `ops/s` (higher is better), one sample: the hertz benchmark.js
//! computed from its runs; the number of runs sampled is the iteration count. The relative
//! margin of error is ignored. Other lines (`Fastest is …`) are skipped.

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Benchmarkjs;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let no_params = Params::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let Some((name, hz, runs)) = cycle_line(line) else {
            if line.contains(" ops/sec ") && line.contains(" x ") {
                return Err(ParseError::line(
                    F,
                    n,
                    "\"<name> x <hz> ops/sec ±<rme>% (<runs> runs sampled)\"",
                ));
            }
            continue;
        };
        series
            .add(Obs {
                benchmark: name,
                params: &no_params,
                measure: "throughput",
                unit: "ops/s",
                direction: Some(Direction::Higher),
                samples: &[hz],
                iterations: Some(runs),
            })
            .map_err(at_line(F, n))?;
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// `<name> x <hz> ops/sec ±<rme>% (<runs> run[s] sampled)` → (name, hz, runs).
pub(crate) fn cycle_line(line: &str) -> Option<(&str, f64, u64)> {
    let (name, rest) = line.trim().rsplit_once(" x ")?;
    let (hz, rest) = rest.split_once(" ops/sec ")?;
    let hz = finite(&hz.replace(',', ""))?;
    let runs = rest.split_once('(')?.1.split_whitespace().next()?;
    let name = name.trim();
    (!name.is_empty()).then_some(())?;
    Some((name, hz, runs.parse().ok()?))
}
