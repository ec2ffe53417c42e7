//! pytest-benchmark JSON (`pytest --benchmark-json=out.json`).
//!
//! Benchmark: `fullname` (`test_bench.py::test_fib`) with the `[param-id]` suffix cut off
//! when `params` are given; `params` become params (values printed as text). Samples:
//! `stats.data` (seconds per iteration, present unless `--benchmark-disable-gc`-era
//! versions or `--benchmark-json` without raw data), else the mean as the one sample
//! with min/q1/median/q3/max as percentiles. Unit `s`. `iterations` from stats.
//! machine_info and commit_info go to metadata; the testbed hint is
//! `<system>-<machine> <cpu brand>`.

use serde_json::{Map, Value};

use crate::common::{
    add_metadata, at_path, clean_key, clean_param, copy_scalars, index_path, key_path, parse_json,
    scalar_text, Obs, Params, Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Pytest;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let mut metadata = Map::new();
    let testbed_hint = copy_machine_info(root, &mut metadata);
    copy_commit_info(root, &mut metadata);
    copy_scalars(
        &mut metadata,
        root,
        &["datetime", "version"],
        "pytest_benchmark_",
    );
    let list = j.arr(j.field(root, "benchmarks", "")?, "benchmarks")?;
    let mut series = Series::default();
    for (i, entry) in list.iter().enumerate() {
        let path = index_path("benchmarks", i);
        let e = j.obj(entry, &path)?;
        add_benchmark(&j, &mut series, e, &path)?;
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint,
    })
}

/// The machine (OS, CPU, Python) as metadata; returns a testbed name from the system,
/// the architecture and the CPU brand.
fn copy_machine_info(
    root: &Map<String, Value>,
    metadata: &mut Map<String, Value>,
) -> Option<String> {
    let Some(Value::Object(m)) = root.get("machine_info") else {
        return None;
    };
    copy_scalars(
        metadata,
        m,
        &[
            "node",
            "machine",
            "system",
            "release",
            "python_implementation",
            "python_version",
        ],
        "",
    );
    let brand = m
        .get("cpu")
        .and_then(|c| c.get("brand_raw"))
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty());
    if let Some(b) = brand {
        add_metadata(metadata, "cpu", Value::from(b));
    }
    let sys = [m.get("system"), m.get("machine")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-");
    match (sys.is_empty(), brand) {
        (false, Some(b)) => Some(format!("{sys} {b}")),
        (false, None) => Some(sys),
        (true, Some(b)) => Some(b.to_string()),
        (true, None) => None,
    }
}

/// The commit pytest-benchmark saw, as one `commit_info` object.
fn copy_commit_info(root: &Map<String, Value>, metadata: &mut Map<String, Value>) {
    if let Some(Value::Object(c)) = root.get("commit_info") {
        let mut ci = Map::new();
        copy_scalars(
            &mut ci,
            c,
            &["id", "time", "author_time", "dirty", "project", "branch"],
            "",
        );
        if !ci.is_empty() {
            metadata.insert("commit_info".to_string(), Value::Object(ci));
        }
    }
}

/// One benchmark: its samples (`stats.data`), or only its mean with the quartiles as
/// percentiles when the data were not saved.
fn add_benchmark(
    j: &J,
    series: &mut Series,
    e: &Map<String, Value>,
    path: &str,
) -> Result<(), ParseError> {
    let (bench, params) = name_and_params(j, e, path)?;
    let stats_path = key_path(path, "stats");
    let stats = j.obj(j.field(e, "stats", path)?, &stats_path)?;
    let iterations = match stats.get("iterations") {
        Some(v) => Some(j.count(v, &key_path(&stats_path, "iterations"))?),
        None => None,
    };
    let data = match stats.get("data") {
        Some(d) if !d.is_null() => j.nums(d, &key_path(&stats_path, "data"))?,
        _ => Vec::new(),
    };
    let summary_only = data.is_empty();
    let samples = if summary_only {
        vec![j.req_num(stats, "mean", &stats_path)?]
    } else {
        data
    };
    let r = series
        .add(Obs {
            benchmark: &bench,
            params: &params,
            measure: "time",
            unit: "s",
            direction: Some(Direction::Lower),
            samples: &samples,
            iterations,
        })
        .map_err(at_path(F, path))?;
    if summary_only {
        for (key, q) in [
            ("min", "0"),
            ("q1", "25"),
            ("median", "50"),
            ("q3", "75"),
            ("max", "100"),
        ] {
            if let Some(x) = j.opt_num(stats, key, &stats_path)? {
                r.percentiles.insert(q.to_string(), x);
            }
        }
    }
    Ok(())
}

fn name_and_params(
    j: &J,
    e: &Map<String, Value>,
    path: &str,
) -> Result<(String, Params), ParseError> {
    let full = match j.opt_str(e, "fullname", path)? {
        Some(f) => f,
        None => j.req_str(e, "name", path)?,
    };
    let mut params = Params::new();
    if let Some(Value::Object(p)) = e.get("params") {
        for (k, v) in p {
            let text = scalar_text(v).unwrap_or_else(|| {
                if v.is_null() {
                    "None".to_string()
                } else {
                    v.to_string()
                }
            });
            params.insert(clean_key(k), clean_param(&text));
        }
    }
    // `test_fib[10]` → `test_fib` when the id's parts are in params; otherwise the id
    // stays in the name so two parametrized cases never collapse into one series.
    let name = match (
        params.is_empty(),
        full.strip_suffix(']').and_then(|s| s.rsplit_once('[')),
    ) {
        (false, Some((base, _))) if !base.is_empty() => base.to_string(),
        _ => full.to_string(),
    };
    Ok((name, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_only_gives_mean_and_percentiles() {
        let p = parse(r#"{"benchmarks":[{"name":"t","fullname":"a.py::t","stats":{"mean":0.5,"median":0.4,"min":0.1,"max":0.9,"q1":0.3,"q3":0.6,"iterations":2}}]}"#).unwrap();
        assert_eq!(p.results[0].samples, vec![0.5]);
        assert_eq!(p.results[0].percentiles["50"], 0.4);
        assert_eq!(p.results[0].iterations, Some(2));
    }
}
