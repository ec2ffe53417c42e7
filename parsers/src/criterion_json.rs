//! Criterion's saved results, `target/criterion/<id>/new/{benchmark,estimates,sample}.json`.
//!
//! The crate does no IO, so the caller hands over `(relative path, content)` pairs.
//! Only `new/` is read (`base/` is the previous run, `change/` Criterion's comparison).
//! Samples are `times[i] / iters[i]` from sample.json (ns per iteration, Criterion's
//! wall-time measurement); without sample.json the estimate (slope, else mean) is the one
//! sample. benchmark.json names the benchmark: `group_id[/function_id]`, and its
//! `value_str` (the `BenchmarkId` parameter) becomes param `input` — or `k=v` when it has
//! that shape — so a parameter scan is one benchmark with several param values. A
//! declared throughput (Elements, Bytes, BytesDecimal) adds a `throughput` measure per
//! sample in `elem/s` or `B/s`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{clean_param, key_path, parse_json, split_params, Obs, Series, J};
use crate::{Format, Location, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::CriterionJson;

#[derive(Default)]
struct Dir<'a> {
    benchmark: Option<(&'a str, &'a str)>,
    estimates: Option<(&'a str, &'a str)>,
    sample: Option<(&'a str, &'a str)>,
}

/// One string: a JSON object mapping each file's relative path to its content (a string
/// or the parsed JSON), for callers that can only pass one document.
pub(crate) fn parse_single(input: &str) -> Result<Parsed, ParseError> {
    let v = parse_json(F, input)?;
    let Some(map) = v.as_object() else {
        return Err(ParseError::path(
            F,
            "",
            "an object mapping \"<id>/new/sample.json\"-style paths to file contents (criterion-json reads a directory)",
        ));
    };
    let mut owned: Vec<(String, String)> = Vec::new();
    for (path, content) in map {
        let text = match content {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        owned.push((path.clone(), text));
    }
    let files: Vec<(&str, &str)> = owned
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    parse_dir(&files)
}

pub(crate) fn parse_dir(files: &[(&str, &str)]) -> Result<Parsed, ParseError> {
    let dirs = benchmark_dirs(files);
    let mut series = Series::default();
    for (dir, d) in &dirs {
        if d.sample.is_none() && d.estimates.is_none() {
            continue;
        }
        let Some((bpath, bcontent)) = d.benchmark else {
            return Err(ParseError::new(
                F,
                Location::File(
                    format!("{dir}/new/benchmark.json"),
                    Box::new(Location::Input),
                ),
                "benchmark.json beside sample.json/estimates.json (it names the benchmark)",
            ));
        };
        let id = read_id(bcontent).map_err(|e| e.in_file(bpath))?;
        let per_iter = match (d.sample, d.estimates) {
            (Some((p, c)), _) => read_samples(c).map_err(|e| e.in_file(p))?,
            (None, Some((p, c))) => read_estimate(c).map_err(|e| e.in_file(p))?,
            (None, None) => continue,
        };
        let where_ = d.sample.or(d.estimates).map(|x| x.0).unwrap_or("");
        series
            .add(Obs {
                benchmark: &id.name,
                params: &id.params,
                measure: "time",
                unit: "ns",
                direction: Some(Direction::Lower),
                samples: &per_iter,
                iterations: None,
            })
            .map_err(|e| {
                ParseError::new(
                    F,
                    Location::File(where_.to_string(), Box::new(Location::Input)),
                    e,
                )
            })?;
        if let Some((per_iteration, unit)) = id.throughput {
            let rates: Vec<f64> = per_iter.iter().map(|ns| per_iteration * 1e9 / ns).collect();
            series
                .add(Obs {
                    benchmark: &id.name,
                    params: &id.params,
                    measure: "throughput",
                    unit,
                    direction: Some(Direction::Higher),
                    samples: &rates,
                    iterations: None,
                })
                .map_err(|e| {
                    ParseError::new(
                        F,
                        Location::File(bpath.to_string(), Box::new(Location::Input)),
                        e,
                    )
                })?;
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// The files criterion writes per benchmark, grouped by the benchmark's directory
/// (`<dir>/new/<file>`); other files are ignored.
fn benchmark_dirs<'a>(files: &[(&'a str, &'a str)]) -> BTreeMap<String, Dir<'a>> {
    let mut dirs: BTreeMap<String, Dir<'a>> = BTreeMap::new();
    for &(path, content) in files {
        let norm = path.replace('\\', "/");
        let Some((dir, file)) = norm.rsplit_once("/new/") else {
            continue;
        };
        if file.contains('/') {
            continue;
        }
        let d = dirs.entry(dir.to_string()).or_default();
        match file {
            "benchmark.json" => d.benchmark = Some((path, content)),
            "estimates.json" => d.estimates = Some((path, content)),
            "sample.json" => d.sample = Some((path, content)),
            _ => {}
        }
    }
    dirs
}

struct Id {
    name: String,
    params: BTreeMap<String, String>,
    /// Elements or bytes per iteration, and the rate unit.
    throughput: Option<(f64, &'static str)>,
}

fn read_id(content: &str) -> Result<Id, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, content)?;
    let m = j.obj(&v, "")?;
    let group = match j.opt_str(m, "group_id", "")? {
        Some(g) => g.to_string(),
        None => j.req_str(m, "full_id", "")?.to_string(),
    };
    let full = match j.opt_str(m, "function_id", "")? {
        Some(func) => format!("{group}/{func}"),
        None => group,
    };
    let (name, mut params) = split_params(&full, '=');
    if let Some(value) = j.opt_str(m, "value_str", "")? {
        match value.split_once('=') {
            Some((k, v))
                if !k.is_empty()
                    && !k.contains(',')
                    && !v.contains(',')
                    && !params.contains_key(k) =>
            {
                params.insert(crate::common::clean_key(k), clean_param(v));
            }
            _ => {
                params.insert("input".to_string(), clean_param(value));
            }
        }
    }
    let throughput = match m.get("throughput") {
        Some(Value::Object(t)) => {
            let pick = |key: &str,
                        unit: &'static str|
             -> Result<Option<(f64, &'static str)>, ParseError> {
                Ok(j.opt_num(t, key, "throughput")?.map(|n| (n, unit)))
            };
            pick("Elements", "elem/s")?
                .or(pick("Bytes", "B/s")?)
                .or(pick("BytesDecimal", "B/s")?)
        }
        _ => None,
    };
    Ok(Id {
        name,
        params,
        throughput,
    })
}

fn read_samples(content: &str) -> Result<Vec<f64>, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, content)?;
    let m = j.obj(&v, "")?;
    let iters = j.nums(j.field(m, "iters", "")?, "iters")?;
    let times = j.nums(j.field(m, "times", "")?, "times")?;
    if iters.len() != times.len() || iters.is_empty() {
        return Err(j.err("times", "as many times as iters, at least one"));
    }
    let mut out = Vec::with_capacity(times.len());
    for (i, (t, n)) in times.iter().zip(&iters).enumerate() {
        if *n <= 0.0 {
            return Err(j.err(&format!("iters[{i}]"), "a positive iteration count"));
        }
        out.push(t / n);
    }
    Ok(out)
}

fn read_estimate(content: &str) -> Result<Vec<f64>, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, content)?;
    let m = j.obj(&v, "")?;
    for stat in ["slope", "mean"] {
        if let Some(Value::Object(s)) = m.get(stat) {
            let x = j.req_num(s, "point_estimate", stat)?;
            return Ok(vec![x]);
        }
    }
    Err(j.err(
        &key_path("", "mean"),
        "a mean (or slope) estimate with a point_estimate",
    ))
}
