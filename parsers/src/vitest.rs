//! vitest bench JSON (`vitest bench --outputJson report.json`):
//! `files[].groups[].benchmarks[]`, each with tinybench's statistics in milliseconds.
//!
//! Benchmark: `<group fullName> > <name>` (the group's full name is the file path and
//! the `describe` chain). Measure `time` in `ms`: the raw `samples` when the report keeps
//! them (vitest < 2 did), else the mean as the one sample, with the median and the
//! p75/p99/p99.5/p99.9 percentiles tinybench computed. `sampleCount` (how many timings
//! the statistics summarise) becomes the iteration count, `hz` is measure `throughput`
//! in `ops/s`.

use serde_json::{Map, Value};

use crate::common::{at_path, index_path, key_path, parse_json, Obs, Params, Series, J};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Vitest;

/// tinybench field → percentile.
const PERCENTILES: [(&str, &str); 5] = [
    ("median", "50"),
    ("p75", "75"),
    ("p99", "99"),
    ("p995", "99.5"),
    ("p999", "99.9"),
];

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let files = j.arr(j.field(root, "files", "")?, "files")?;
    let mut series = Series::default();
    for (fi, file) in files.iter().enumerate() {
        let fp = index_path("files", fi);
        let file = j.obj(file, &fp)?;
        let gp = key_path(&fp, "groups");
        for (gi, group) in j
            .arr(j.field(file, "groups", &fp)?, &gp)?
            .iter()
            .enumerate()
        {
            let gpath = index_path(&gp, gi);
            let group = j.obj(group, &gpath)?;
            let prefix = j.opt_str(group, "fullName", &gpath)?.unwrap_or("");
            let bp = key_path(&gpath, "benchmarks");
            for (bi, b) in j
                .arr(j.field(group, "benchmarks", &gpath)?, &bp)?
                .iter()
                .enumerate()
            {
                let path = index_path(&bp, bi);
                add_benchmark(&j, &mut series, j.obj(b, &path)?, prefix, &path)?;
            }
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// One benchmark of a group (named `<group> > <name>`): its samples, or its mean when
/// they were not saved, with the percentiles and the rate (`hz`).
fn add_benchmark(
    j: &J,
    series: &mut Series,
    b: &Map<String, Value>,
    prefix: &str,
    path: &str,
) -> Result<(), ParseError> {
    let name = j.req_str(b, "name", path)?;
    let full = if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix} > {name}")
    };
    let raw = match b.get("samples") {
        Some(s) if !s.is_null() => j.nums(s, &key_path(path, "samples"))?,
        _ => Vec::new(),
    };
    let samples = if raw.is_empty() {
        vec![j.req_num(b, "mean", path)?]
    } else {
        raw
    };
    let count = match b.get("sampleCount") {
        Some(c) if !c.is_null() => Some(j.count(c, &key_path(path, "sampleCount"))?),
        _ => None,
    };
    let r = series
        .add(Obs {
            benchmark: &full,
            params: &Params::new(),
            measure: "time",
            unit: "ms",
            direction: Some(Direction::Lower),
            samples: &samples,
            iterations: count,
        })
        .map_err(at_path(F, path))?;
    for (key, q) in PERCENTILES {
        if let Some(x) = j.opt_num(b, key, path)? {
            r.percentiles.insert(q.to_string(), x);
        }
    }
    if let Some(hz) = j.opt_num(b, "hz", path)? {
        series
            .add(Obs {
                benchmark: &full,
                params: &Params::new(),
                measure: "throughput",
                unit: "ops/s",
                direction: Some(Direction::Higher),
                samples: &[hz],
                iterations: count,
            })
            .map_err(at_path(F, &key_path(path, "hz")))?;
    }
    Ok(())
}

/// `{"files":[{"groups":[…]}]}`.
pub(crate) fn looks_like(m: &Map<String, Value>) -> bool {
    m.get("files")
        .and_then(Value::as_array)
        .and_then(|f| f.first())
        .is_some_and(|f| f.get("groups").is_some_and(Value::is_array))
}
