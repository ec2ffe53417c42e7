//! Google Benchmark JSON (`--benchmark_format=json` or `--benchmark_out=f.json`).
//!
//! Each `run_type: "iteration"` entry is one sample (so `--benchmark_repetitions=N`
//! gives N samples); aggregate entries (`_mean`, `_median`, `_stddev`, `_cv`, BigO, RMS)
//! are derived from those and skipped, except that a run reported with
//! `--benchmark_report_aggregates_only` (no iteration entries) gets its mean as the one
//! sample. Measures: `real_time` and `cpu_time` in `time_unit`, and every user counter
//! (`items_per_second` → `items/s`, `bytes_per_second` → `B/s`, other `*_per_second` →
//! `*/s`, anything else unit `count`). Name segments `key:value` become params, except
//! measurement settings (`repeats`, `min_time`, `min_warmup_time`, `iterations`) which
//! are dropped so that changing them keeps the series.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::common::{
    at_path, clean_key, copy_scalars, index_path, key_path, parse_json, Obs, Params, Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Gbench;

/// Fields of an entry that are not user counters.
const KNOWN: &[&str] = &[
    "name",
    "family_index",
    "per_family_instance_index",
    "run_name",
    "run_type",
    "repetitions",
    "repetition_index",
    "threads",
    "iterations",
    "real_time",
    "cpu_time",
    "time_unit",
    "aggregate_name",
    "aggregate_unit",
    "label",
    "error_occurred",
    "error_message",
    "skipped",
    "skip_message",
    "big_o",
    "rms",
    "complexity_n",
];

/// Name segments that configure the measurement rather than name what is measured.
const DROPPED: &[&str] = &["repeats", "min_time", "min_warmup_time", "iterations"];

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let mut metadata = Map::new();
    if let Some(Value::Object(ctx)) = root.get("context") {
        copy_scalars(
            &mut metadata,
            ctx,
            &[
                "date",
                "host_name",
                "executable",
                "num_cpus",
                "mhz_per_cpu",
                "cpu_scaling_enabled",
                "library_build_type",
                "library_version",
            ],
            "",
        );
    }
    let list = j.arr(j.field(root, "benchmarks", "")?, "benchmarks")?;
    let mut series = Series::default();
    let mut measured: HashSet<(String, Params)> = HashSet::new();
    let mut means: Vec<(usize, &Map<String, Value>)> = Vec::new();
    let mut failed: Vec<Value> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = index_path("benchmarks", i);
        let e = j.obj(entry, &path)?;
        let name = match j.opt_str(e, "run_name", &path)? {
            Some(n) => n,
            None => j.req_str(e, "name", &path)?,
        };
        if truthy(e.get("error_occurred")) || truthy(e.get("skipped")) {
            failed.push(Value::from(name));
            continue;
        }
        match j.opt_str(e, "run_type", &path)?.unwrap_or("iteration") {
            "iteration" => {}
            "aggregate" => {
                if j.opt_str(e, "aggregate_name", &path)? == Some("mean") {
                    means.push((i, e));
                }
                continue;
            }
            _ => {
                return Err(j.err(
                    &key_path(&path, "run_type"),
                    "\"iteration\" or \"aggregate\"",
                ))
            }
        }
        let (bench, params) = name_and_params(name);
        add_entry(&j, &mut series, &bench, &params, e, &path, true)?;
        measured.insert((bench, params));
    }
    for (i, e) in means {
        let path = index_path("benchmarks", i);
        let name = match j.opt_str(e, "run_name", &path)? {
            Some(n) => n,
            None => j.req_str(e, "name", &path)?,
        };
        let (bench, params) = name_and_params(name);
        if !measured.contains(&(bench.clone(), params.clone())) {
            // An aggregate's `iterations` is the repetition count, not iterations per sample.
            add_entry(&j, &mut series, &bench, &params, e, &path, false)?;
        }
    }
    if !failed.is_empty() {
        metadata.insert("failed_benchmarks".to_string(), Value::Array(failed));
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn add_entry(
    j: &J,
    series: &mut Series,
    bench: &str,
    params: &Params,
    e: &Map<String, Value>,
    path: &str,
    with_iterations: bool,
) -> Result<(), ParseError> {
    let unit = match j.opt_str(e, "time_unit", path)?.unwrap_or("ns") {
        u @ ("ns" | "us" | "ms" | "s") => u,
        _ => return Err(j.err(&key_path(path, "time_unit"), "one of ns, us, ms, s")),
    };
    let iterations = match e.get("iterations") {
        Some(v) if with_iterations => Some(j.count(v, &key_path(path, "iterations"))?),
        _ => None,
    };
    for measure in ["real_time", "cpu_time"] {
        if let Some(x) = j.opt_num(e, measure, path)? {
            series
                .add(Obs {
                    benchmark: bench,
                    params,
                    measure,
                    unit,
                    direction: Some(Direction::Lower),
                    samples: &[x],
                    iterations,
                })
                .map_err(at_path(F, path))?;
        }
    }
    for (key, value) in e {
        if KNOWN.contains(&key.as_str()) || !value.is_number() {
            continue;
        }
        let x = j.num(value, &key_path(path, key))?;
        let (unit, direction) = counter_unit(key);
        series
            .add(Obs {
                benchmark: bench,
                params,
                measure: key,
                unit: &unit,
                direction,
                samples: &[x],
                iterations,
            })
            .map_err(at_path(F, path))?;
    }
    Ok(())
}

pub(crate) fn counter_unit(key: &str) -> (String, Option<Direction>) {
    match key {
        "bytes_per_second" => ("B/s".to_string(), Some(Direction::Higher)),
        "items_per_second" => ("items/s".to_string(), Some(Direction::Higher)),
        k => match k.strip_suffix("_per_second") {
            Some(what) if !what.is_empty() => (format!("{what}/s"), Some(Direction::Higher)),
            _ => ("count".to_string(), None),
        },
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        // gbench 1.8 writes `"skipped": "error"`-like strings in some builds.
        Some(Value::String(s)) => !s.is_empty() && s != "false",
        _ => false,
    }
}

/// `BM_Sum/1024/repeats:3/threads:2` → (`BM_Sum/1024`, {threads: 2}).
pub(crate) fn name_and_params(name: &str) -> (String, Params) {
    let mut kept = Vec::new();
    let mut params = Params::new();
    for (i, seg) in name.split('/').enumerate() {
        match seg.split_once(':') {
            Some((k, _)) if i > 0 && DROPPED.contains(&k) => {}
            Some((k, v))
                if i > 0 && !k.is_empty() && !v.contains(',') && !params.contains_key(k) =>
            {
                params.insert(clean_key(k), crate::common::clean_param(v));
            }
            _ => kept.push(seg),
        }
    }
    (kept.join("/"), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_measurement_settings_and_keep_args() {
        let (n, p) = name_and_params("BM_Sum/1024/repeats:3/threads:2/min_time:0.5");
        assert_eq!(n, "BM_Sum/1024");
        assert_eq!(p.get("threads").map(String::as_str), Some("2"));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn aggregates_only_runs_use_the_mean() {
        let input = r#"{"benchmarks":[
          {"name":"BM_A_mean","run_name":"BM_A","run_type":"aggregate","aggregate_name":"mean","iterations":3,"real_time":10,"cpu_time":9,"time_unit":"us"},
          {"name":"BM_A_stddev","run_name":"BM_A","run_type":"aggregate","aggregate_name":"stddev","iterations":3,"real_time":1,"cpu_time":1,"time_unit":"us"}]}"#;
        let p = parse(input).unwrap();
        assert_eq!(p.results.len(), 2);
        assert_eq!(p.results[0].samples, vec![10.0]);
        assert_eq!(p.results[0].unit, "us");
    }

    #[test]
    fn a_bad_field_is_named_by_path() {
        let e = parse(r#"{"benchmarks":[{"name":"x","real_time":"fast"}]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gbench: benchmarks[0].real_time: expected a finite number"
        );
    }
}
