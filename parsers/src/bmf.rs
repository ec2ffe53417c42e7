//! Bencher Metric Format: `{ "<benchmark>": { "<measure>": { "value": 1.0,
//! "lower_value": 0.9, "upper_value": 1.1 } } }`.
//!
//! BMF carries no units; Bencher's built-in measures have fixed ones, used here:
//! `latency` ns, `throughput` ops/s, `file-size` B, `build-time` s; any other measure
//! gets unit `count`. `value` is the one sample; the bounds have no place in a result
//! and are ignored.

use crate::common::{at_path, key_path, parse_json, split_params, Obs, Series, J};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Bmf;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let mut series = Series::default();
    for (bench, measures) in root {
        let bp = key_path("", bench);
        let (name, params) = split_params(bench, '=');
        for (measure, m) in j.obj(measures, &bp)? {
            let mp = key_path(&bp, measure);
            let value = j.req_num(j.obj(m, &mp)?, "value", &mp)?;
            let (unit, direction) = match measure.as_str() {
                "latency" => ("ns", Some(Direction::Lower)),
                "throughput" => ("ops/s", Some(Direction::Higher)),
                "file-size" => ("B", Some(Direction::Lower)),
                "build-time" => ("s", Some(Direction::Lower)),
                _ => ("count", None),
            };
            series
                .add(Obs {
                    benchmark: &name,
                    params: &params,
                    measure,
                    unit,
                    direction,
                    samples: &[value],
                    iterations: None,
                })
                .map_err(at_path(F, &mp))?;
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}
