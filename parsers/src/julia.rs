//! Julia BenchmarkTools JSON (`BenchmarkTools.save("results.json", results)`):
//! `[{"Julia": …, "BenchmarkTools": …}, [<value>, …]]`, each value a tagged pair
//! `[type, fields]`: `BenchmarkGroup` (`data` maps keys to more values), `Trial`
//! (`times` and `gctimes` in ns per evaluation, `memory`, `allocs`, `params`) or
//! `TrialEstimate` (one `time`, `gctime`, `memory`, `allocs`).
//!
//! Benchmark: the group keys from the root joined with `/` (`fib/20`). Measures: `time`
//! in `ns` (a Trial's every sample, an estimate's one value), `gc_time` in `ns`,
//! `memory` in `B` and `allocs` (count), lower is better. `params.evals` (evaluations per
//! sample) is the iteration count. Group tags and the other parameters are ignored.

use perfwatch_core::Direction;
use serde_json::{Map, Value};

use crate::common::{at_path, index_path, key_path, parse_json, Obs, Params, Series, J};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Julia;

/// Groups nest; hostile input could nest deeper than any real suite.
const MAX_DEPTH: usize = 64;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let top = j.arr(&v, "")?;
    let (Some(versions), Some(values)) = (top.first(), top.get(1)) else {
        return Err(j.err("", "[{versions}, [values]]"));
    };
    let mut metadata = Map::new();
    if let Value::Object(vs) = versions {
        crate::common::copy_scalars(&mut metadata, vs, &["Julia", "BenchmarkTools"], "");
    }
    let mut series = Series::default();
    for (i, value) in j.arr(values, "[1]")?.iter().enumerate() {
        walk(
            &j,
            &mut series,
            value,
            &index_path("[1]", i),
            &mut Vec::new(),
        )?;
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn walk(
    j: &J,
    series: &mut Series,
    value: &Value,
    path: &str,
    keys: &mut Vec<String>,
) -> Result<(), ParseError> {
    if keys.len() > MAX_DEPTH {
        return Err(j.err(path, format!("groups nested at most {MAX_DEPTH} deep")));
    }
    let pair = j.arr(value, path)?;
    let (Some(Value::String(kind)), Some(fields)) = (pair.first(), pair.get(1)) else {
        return Err(j.err(path, "a [\"<type>\", {…}] pair"));
    };
    let fp = index_path(path, 1);
    let fields = j.obj(fields, &fp)?;
    match kind.as_str() {
        "BenchmarkGroup" => {
            let dp = key_path(&fp, "data");
            for (k, child) in j.obj(j.field(fields, "data", &fp)?, &dp)? {
                keys.push(k.clone());
                walk(j, series, child, &key_path(&dp, k), keys)?;
                keys.pop();
            }
            Ok(())
        }
        "Trial" | "TrialEstimate" => trial(j, series, kind == "Trial", fields, &fp, keys),
        _ => Err(j.err(
            &index_path(path, 0),
            "BenchmarkGroup, Trial or TrialEstimate",
        )),
    }
}

fn trial(
    j: &J,
    series: &mut Series,
    is_trial: bool,
    f: &Map<String, Value>,
    path: &str,
    keys: &[String],
) -> Result<(), ParseError> {
    let name = if keys.is_empty() {
        "benchmark".to_string()
    } else {
        keys.join("/")
    };
    let iterations = match f
        .get("params")
        .and_then(|p| p.get(1))
        .and_then(|p| p.get("evals"))
    {
        Some(e) => Some(j.count(e, &key_path(path, "params[1].evals"))?),
        None => None,
    };
    let (times, gc) = if is_trial {
        (
            j.nums(j.field(f, "times", path)?, &key_path(path, "times"))?,
            match f.get("gctimes") {
                Some(g) => j.nums(g, &key_path(path, "gctimes"))?,
                None => Vec::new(),
            },
        )
    } else {
        (
            vec![j.req_num(f, "time", path)?],
            j.opt_num(f, "gctime", path)?.into_iter().collect(),
        )
    };
    let no_params = Params::new();
    let mut add = |measure: &str, unit: &str, samples: &[f64], iterations: Option<u64>| {
        if samples.is_empty() {
            return Ok(());
        }
        series
            .add(Obs {
                benchmark: &name,
                params: &no_params,
                measure,
                unit,
                direction: Some(Direction::Lower),
                samples,
                iterations,
            })
            .map(|_| ())
            .map_err(at_path(F, path))
    };
    add("time", "ns", &times, iterations)?;
    add("gc_time", "ns", &gc, iterations)?;
    if let Some(m) = j.opt_num(f, "memory", path)? {
        add("memory", "B", &[m], None)?;
    }
    if let Some(a) = j.opt_num(f, "allocs", path)? {
        add("allocs", "count", &[a], None)?;
    }
    Ok(())
}

/// `[{"Julia": …, "BenchmarkTools": …}, …]`.
pub(crate) fn looks_like(items: &[Value]) -> bool {
    items
        .first()
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key("BenchmarkTools"))
}
