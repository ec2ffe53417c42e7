//! BenchmarkDotNet JSON exporter (`--exporters json`, the `*-report-full.json` or
//! `*-report.json` file in `BenchmarkDotNet.Artifacts/results`).
//!
//! Benchmark: `Namespace.Type.Method`; `Parameters` (`N=10&Size=100`) become params,
//! and the job when it is not `DefaultJob`. Samples: the `Workload`/`Result`
//! measurements (overhead already removed by BenchmarkDotNet) as `Nanoseconds /
//! Operations`, else `Statistics.OriginalValues` (the same, per operation), else the
//! mean with the harness's percentiles. Unit `ns`. `Memory.BytesAllocatedPerOperation`
//! (with `[MemoryDiagnoser]`) is measure `alloc_bytes` in `B/op`. GC counts are ignored.

use serde_json::{Map, Value};

use crate::common::{
    add_metadata, at_path, clean_key, clean_param, copy_scalars, index_path, key_path, parse_json,
    Obs, Params, Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Bdn;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let (mut metadata, testbed_hint) = host_metadata(root);
    let list = j.arr(j.field(root, "Benchmarks", "")?, "Benchmarks")?;
    let mut series = Series::default();
    let mut failed = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = index_path("Benchmarks", i);
        let e = j.obj(entry, &path)?;
        let name = name_of(&j, e, &path)?;
        let params = params_of(&j, e, &path)?;
        let (samples, iterations, percentiles) = match samples_of(&j, e, &path)? {
            Some(s) => s,
            None => {
                // A benchmark that failed to run has neither measurements nor statistics.
                failed.push(Value::from(name));
                continue;
            }
        };
        let r = series
            .add(Obs {
                benchmark: &name,
                params: &params,
                measure: "time",
                unit: "ns",
                direction: Some(Direction::Lower),
                samples: &samples,
                iterations,
            })
            .map_err(at_path(F, &path))?;
        r.percentiles.extend(percentiles);
        if let Some(Value::Object(mem)) = e.get("Memory") {
            let mp = key_path(&path, "Memory");
            if let Some(bytes) = j.opt_num(mem, "BytesAllocatedPerOperation", &mp)? {
                series
                    .add(Obs {
                        benchmark: &name,
                        params: &params,
                        measure: "alloc_bytes",
                        unit: "B/op",
                        direction: Some(Direction::Lower),
                        samples: &[bytes],
                        iterations: None,
                    })
                    .map_err(at_path(F, &mp))?;
            }
        }
    }
    if !failed.is_empty() {
        add_metadata(&mut metadata, "failed_benchmarks", Value::Array(failed));
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint,
    })
}

/// The title, the host (BenchmarkDotNet, OS, CPU, runtime) as metadata, and a testbed
/// name from the architecture and the processor.
fn host_metadata(root: &Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let mut metadata = Map::new();
    copy_scalars(&mut metadata, root, &["Title"], "");
    let mut testbed_hint = None;
    if let Some(Value::Object(h)) = root.get("HostEnvironmentInfo") {
        copy_scalars(
            &mut metadata,
            h,
            &[
                "BenchmarkDotNetVersion",
                "OsVersion",
                "ProcessorName",
                "RuntimeVersion",
                "Architecture",
                "Configuration",
            ],
            "",
        );
        let arch = h
            .get("Architecture")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let cpu = h
            .get("ProcessorName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        testbed_hint = match (arch, cpu) {
            (Some(a), Some(c)) => Some(format!("{} {c}", a.to_ascii_lowercase())),
            (Some(x), None) | (None, Some(x)) => Some(x.to_string()),
            (None, None) => None,
        };
    }
    (metadata, testbed_hint)
}

fn name_of(j: &J, e: &Map<String, Value>, path: &str) -> Result<String, ParseError> {
    let part = |key: &str| -> Result<Option<&str>, ParseError> {
        Ok(j.opt_str(e, key, path)?.filter(|s| !s.is_empty()))
    };
    // `Namespace` is null for a class in the global namespace.
    let (ns, ty, method) = (part("Namespace")?, part("Type")?, part("Method")?);
    let full = part("FullName")?;
    let joined = |parts: &[Option<&str>]| {
        parts
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(".")
    };
    match (ty, method, full) {
        (Some(_), Some(_), _) => Ok(joined(&[ns, ty, method])),
        (_, _, Some(f)) => Ok(f.to_string()),
        // Some exporters leave out `Type` as well: the method (and namespace) still name it.
        (None, Some(_), None) => Ok(joined(&[ns, method])),
        _ => Err(j.err(path, "Method (with Namespace and Type), or FullName")),
    }
}

fn params_of(j: &J, e: &Map<String, Value>, path: &str) -> Result<Params, ParseError> {
    let mut params = Params::new();
    if let Some(p) = j.opt_str(e, "Parameters", path)? {
        for part in p.split('&').filter(|s| !s.trim().is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = clean_key(k.trim());
            if !k.is_empty() {
                params.insert(k, clean_param(v.trim()));
            }
        }
    }
    // `Type.Method: Job [N=10]` → the job, kept when not the default one.
    if let Some(d) = j.opt_str(e, "DisplayInfo", path)? {
        if let Some((_, after)) = d.rsplit_once(": ") {
            let job = after.split(" [").next().unwrap_or("").trim();
            if !job.is_empty() && job != "DefaultJob" {
                params.insert("job".to_string(), clean_param(job));
            }
        }
    }
    Ok(params)
}

type Samples = (Vec<f64>, Option<u64>, Vec<(String, f64)>);

fn samples_of(j: &J, e: &Map<String, Value>, path: &str) -> Result<Option<Samples>, ParseError> {
    if let Some(ms) = e.get("Measurements").filter(|m| !m.is_null()) {
        let mp = key_path(path, "Measurements");
        let mut out = Vec::new();
        let mut ops_seen: Option<Option<u64>> = None;
        for (i, m) in j.arr(ms, &mp)?.iter().enumerate() {
            let ip = index_path(&mp, i);
            let m = j.obj(m, &ip)?;
            if j.opt_str(m, "IterationMode", &ip)? != Some("Workload")
                || j.opt_str(m, "IterationStage", &ip)? != Some("Result")
            {
                continue;
            }
            let ops = j.count(j.field(m, "Operations", &ip)?, &key_path(&ip, "Operations"))?;
            if ops == 0 {
                return Err(j.err(&key_path(&ip, "Operations"), "a positive operation count"));
            }
            let ns = j.req_num(m, "Nanoseconds", &ip)?;
            out.push(ns / ops as f64);
            ops_seen = match ops_seen {
                None => Some(Some(ops)),
                Some(Some(o)) if o == ops => Some(Some(o)),
                Some(_) => Some(None),
            };
        }
        if !out.is_empty() {
            return Ok(Some((out, ops_seen.flatten(), Vec::new())));
        }
    }
    let Some(stats) = e.get("Statistics").filter(|s| !s.is_null()) else {
        return Ok(None);
    };
    let sp = key_path(path, "Statistics");
    let stats = j.obj(stats, &sp)?;
    if let Some(orig) = stats.get("OriginalValues").filter(|o| !o.is_null()) {
        let values = j.nums(orig, &key_path(&sp, "OriginalValues"))?;
        if !values.is_empty() {
            return Ok(Some((values, None, Vec::new())));
        }
    }
    let mean = j.req_num(stats, "Mean", &sp)?;
    let mut pcts = Vec::new();
    if let Some(Value::Object(p)) = stats.get("Percentiles") {
        let pp = key_path(&sp, "Percentiles");
        for (k, v) in p {
            if let Some(q) = k
                .strip_prefix('P')
                .filter(|q| q.parse::<f64>().is_ok_and(|x| (0.0..=100.0).contains(&x)))
            {
                pcts.push((q.to_string(), j.num(v, &key_path(&pp, k))?));
            }
        }
    }
    Ok(Some((vec![mean], None, pcts)))
}
