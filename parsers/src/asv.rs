//! airspeed velocity (asv) results: `results/<machine>/<commit>-<env>.json` (format
//! version 2, with `result_columns`), optionally with `results/benchmarks.json` beside it
//! for parameter names and units.
//!
//! Each benchmark's `result` column holds one value per parameter combination (the
//! cartesian product of the `params` column, first parameter slowest). Samples: the
//! `samples` column when asv ran with `--record-samples`, else the result (asv's median)
//! as the one sample; `stats_number` (calls per sample) is the iteration count. Measure
//! and unit come from the benchmark type: `time_*` → `time` in `s`, `mem_*` → `memory` in
//! `B`, `peakmem_*` → `peakmemory` in `B`, `track_*` → `value` in the declared unit
//! (`benchmarks.json`, else `count`). Parameters are named by `benchmarks.json`, else
//! `param1`, `param2`, …; a `null` result (the benchmark failed for that combination) is
//! listed under `failed_benchmarks`.

use serde_json::{Map, Value};

use crate::common::{
    add_metadata, at_path, clean_key, clean_param, copy_scalars, index_path, key_path, parse_json,
    Obs, Params, Series, J,
};
use crate::{Format, Location, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Asv;

/// What `benchmarks.json` says about one benchmark.
#[derive(Default, Clone)]
struct Declared {
    kind: Option<String>,
    unit: Option<String>,
    param_names: Vec<String>,
}

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let v = parse_json(F, input)?;
    parse_results(&v, &Map::new())
}

/// Several files: `benchmarks.json` (if present) names the parameters of the others.
pub(crate) fn parse_dir(files: &[(&str, &str)]) -> Result<Parsed, ParseError> {
    let mut docs = Vec::new();
    let mut declared = Map::new();
    for (path, content) in files {
        let v = parse_json(F, content).map_err(|e| e.in_file(path))?;
        if is_benchmarks_json(&v) {
            if let Value::Object(m) = v {
                declared = m;
            }
        } else {
            docs.push((*path, v));
        }
    }
    let mut merged = crate::common::Series::default();
    let mut out = Parsed::default();
    for (path, v) in docs {
        let p = parse_results(&v, &declared).map_err(|e| e.in_file(path))?;
        for r in p.results {
            merged.merge(r).map_err(|exp| {
                ParseError::new(
                    F,
                    Location::File(path.to_string(), Box::new(Location::Input)),
                    exp,
                )
            })?;
        }
        for (k, v) in p.metadata {
            add_metadata(&mut out.metadata, &k, v);
        }
        out.testbed_hint = out.testbed_hint.or(p.testbed_hint);
    }
    out.results = merged.finish(F)?;
    Ok(out)
}

/// `benchmarks.json`: every value (but `version`) declares `param_names`.
pub(crate) fn is_benchmarks_json(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() > 1
            && m.iter()
                .filter(|(k, _)| *k != "version")
                .all(|(_, b)| b.get("param_names").is_some() && b.get("type").is_some())
    })
}

fn declared(all: &Map<String, Value>, name: &str) -> Declared {
    let Some(Value::Object(b)) = all.get(name) else {
        return Declared::default();
    };
    Declared {
        kind: b.get("type").and_then(Value::as_str).map(str::to_string),
        unit: b.get("unit").and_then(Value::as_str).map(str::to_string),
        param_names: b
            .get("param_names")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn parse_results(v: &Value, decl: &Map<String, Value>) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let root = j.obj(v, "")?;
    let cols = columns(&j, root)?;
    let (mut metadata, testbed_hint) = header_metadata(root);
    let results = j.obj(j.field(root, "results", "")?, "results")?;
    let mut series = Series::default();
    let mut failed = Vec::new();
    for (name, row) in results {
        let d = declared(decl, name);
        add_benchmark(&j, &cols, &d, name, row, &mut series, &mut failed)?;
    }
    if !failed.is_empty() {
        metadata.insert("failed_benchmarks".into(), Value::Array(failed));
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint,
    })
}

/// Where each field sits in a benchmark's result row (`result_columns`, format 2).
struct Columns {
    result: usize,
    params: Option<usize>,
    samples: Option<usize>,
    number: Option<usize>,
}

fn columns(j: &J, root: &Map<String, Value>) -> Result<Columns, ParseError> {
    let columns: Vec<&str> = match root.get("result_columns") {
        Some(c) => j
            .arr(c, "result_columns")?
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_str()
                    .ok_or_else(|| j.err(&index_path("result_columns", i), "a column name"))
            })
            .collect::<Result<_, _>>()?,
        None => return Err(j.err("result_columns", "a value (asv results format version 2)")),
    };
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let Some(result) = col("result") else {
        return Err(j.err("result_columns", "a \"result\" column"));
    };
    Ok(Columns {
        result,
        params: col("params"),
        samples: col("samples"),
        number: col("stats_number"),
    })
}

/// The run's metadata (commit, environment, machine) and a testbed name from the
/// machine's description.
fn header_metadata(root: &Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let mut metadata = Map::new();
    copy_scalars(
        &mut metadata,
        root,
        &["commit_hash", "env_name", "python", "date"],
        "",
    );
    let mut testbed_hint = None;
    if let Some(Value::Object(p)) = root.get("params") {
        copy_scalars(
            &mut metadata,
            p,
            &["machine", "os", "arch", "cpu", "num_cpu"],
            "",
        );
        let part = |k: &str| p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        testbed_hint = match (part("machine"), part("arch"), part("cpu")) {
            (Some(m), Some(a), Some(c)) => Some(format!("{m} {a} {c}")),
            (Some(m), _, _) => Some(m.to_string()),
            _ => None,
        };
    }
    (metadata, testbed_hint)
}

/// Measure, unit and direction from the benchmark's kind: declared in
/// `benchmarks.json`, else implied by asv's name prefixes (`time_`, `mem_`, `peakmem_`).
fn measure_of(name: &str, d: &Declared) -> (&'static str, String, Option<Direction>) {
    let short = name.rsplit('.').next().unwrap_or(name);
    let kind = d.kind.clone().unwrap_or_else(|| {
        match short.split('_').next() {
            Some("time") => "time",
            Some("mem") => "memory",
            Some("peakmem") => "peakmemory",
            _ => "track",
        }
        .to_string()
    });
    match kind.as_str() {
        "time" => ("time", "s".to_string(), Some(Direction::Lower)),
        "memory" => ("memory", "B".to_string(), Some(Direction::Lower)),
        "peakmemory" => ("peakmemory", "B".to_string(), Some(Direction::Lower)),
        _ => (
            "value",
            d.unit
                .clone()
                .filter(|u| u != "unit")
                .unwrap_or("count".into()),
            None,
        ),
    }
}

/// One benchmark's row: a result per parameter combination. Failed benchmarks and
/// combinations (null results) go to `failed`.
fn add_benchmark(
    j: &J,
    cols: &Columns,
    d: &Declared,
    name: &str,
    row: &Value,
    series: &mut Series,
    failed: &mut Vec<Value>,
) -> Result<(), ParseError> {
    let path = key_path("results", name);
    let row = j.arr(row, &path)?;
    let cell = |i: Option<usize>| i.and_then(|i| row.get(i)).filter(|c| !c.is_null());
    let (measure, unit, direction) = measure_of(name, d);
    let rp = index_path(&path, cols.result);
    let values = match cell(Some(cols.result)) {
        Some(v) => j.arr(v, &rp)?,
        None => {
            failed.push(Value::from(name));
            return Ok(());
        }
    };
    let combos = combinations(
        j,
        cell(cols.params),
        &index_path(&path, cols.params.unwrap_or(0)),
    )?;
    let samples = match cell(cols.samples) {
        Some(s) => Some(j.arr(s, &index_path(&path, cols.samples.unwrap_or(0)))?),
        None => None,
    };
    let numbers = match cell(cols.number) {
        Some(n) => Some(j.arr(n, &index_path(&path, cols.number.unwrap_or(0)))?),
        None => None,
    };
    for (i, value) in values.iter().enumerate() {
        let vp = index_path(&rp, i);
        let Some(combo) = combos.get(i) else {
            return Err(j.err(&vp, "no more results than parameter combinations"));
        };
        if value.is_null() {
            failed.push(Value::from(format!("{name}({})", combo.join(", "))));
            continue;
        }
        let x = j.num(value, &vp)?;
        let these: Vec<f64> = match samples.and_then(|s| s.get(i)).filter(|s| !s.is_null()) {
            Some(s) => j.nums(s, &vp)?,
            None => vec![x],
        };
        let iterations = match numbers.and_then(|n| n.get(i)).filter(|n| !n.is_null()) {
            Some(n) => Some(j.count(n, &vp)?),
            None => None,
        };
        series
            .add(Obs {
                benchmark: name,
                params: &params_of(d, combo),
                measure,
                unit: &unit,
                direction,
                samples: if these.is_empty() {
                    std::slice::from_ref(&x)
                } else {
                    &these
                },
                iterations,
            })
            .map_err(at_path(F, &vp))?;
    }
    Ok(())
}

/// Names a combination's values by the declared parameter names (`param1`, … when
/// undeclared); asv prints string values quoted.
fn params_of(d: &Declared, combo: &[String]) -> Params {
    let mut params = Params::new();
    for (k, pv) in combo.iter().enumerate() {
        let key = d
            .param_names
            .get(k)
            .cloned()
            .unwrap_or(format!("param{}", k + 1));
        params.insert(clean_key(&key), clean_param(pv.trim_matches('\'')));
    }
    params
}

/// The cartesian product of the parameter value lists, first list slowest; no
/// parameters is one empty combination.
fn combinations(j: &J, params: Option<&Value>, path: &str) -> Result<Vec<Vec<String>>, ParseError> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    let Some(params) = params else {
        return Ok(out);
    };
    for (i, list) in j.arr(params, path)?.iter().enumerate() {
        let lp = index_path(path, i);
        let values: Vec<String> = j
            .arr(list, &lp)?
            .iter()
            .enumerate()
            .map(|(k, v)| {
                crate::common::scalar_text(v)
                    .ok_or_else(|| j.err(&index_path(&lp, k), "a parameter value"))
            })
            .collect::<Result<_, _>>()?;
        // Parameter grids are small; cap the product so hostile input cannot blow up.
        if out.len().saturating_mul(values.len()) > 100_000 {
            return Err(j.err(&lp, "at most 100000 parameter combinations"));
        }
        out = out
            .iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    Ok(out)
}

/// A results file: `result_columns` and a `results` object.
pub(crate) fn looks_like(m: &Map<String, Value>) -> bool {
    m.contains_key("result_columns") && m.get("results").is_some_and(Value::is_object)
}
