//! JMH JSON (`java -jar benchmarks.jar -rf json -rff out.json`).
//!
//! Benchmark: the fully qualified method (`org.…Sample.wellHelloThere`); `params`
//! become params, and `threads` too when above 1. The mode names the measure, because
//! one method can run in several modes: `thrpt` → `throughput` (higher is better),
//! `avgt` → `avg_time`, `sample` → `sample_time`, `ss` → `single_shot_time`. Samples:
//! `primaryMetric.rawData` (every measurement iteration of every fork); in sample mode
//! the `rawDataHistogram` expanded when it holds at most 100 000 values, else the score.
//! `scorePercentiles` become percentiles. Each secondary metric (`gc.alloc.rate`,
//! `·gc.alloc.rate.norm`, …) is its own measure with its own unit; `/sec` units are
//! written `/s` so the core recognises them. JVM facts go to metadata.

use serde_json::{Map, Value};

use crate::common::{
    add_metadata, at_path, clean_key, clean_param, index_path, key_path, parse_json, scalar_text,
    Obs, Params, Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Jmh;
const MAX_EXPANDED: u64 = 100_000;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let list = j.arr(&v, "")?;
    let mut series = Series::default();
    let mut metadata = Map::new();
    for (i, entry) in list.iter().enumerate() {
        let path = index_path("", i);
        let e = j.obj(entry, &path)?;
        let bench = j.req_str(e, "benchmark", &path)?;
        let mode = j.req_str(e, "mode", &path)?;
        copy_run_settings(e, &mut metadata);
        let params = params_of(&j, e, &path)?;
        let (measure, direction) = measure_of(&j, mode, &path)?;
        let pm_path = key_path(&path, "primaryMetric");
        let pm = j.obj(j.field(e, "primaryMetric", &path)?, &pm_path)?;
        let r = add_metric(
            &j,
            &mut series,
            bench,
            &params,
            measure,
            Some(direction),
            pm,
            &pm_path,
        )?;
        if let Some(Value::Object(pcts)) = pm.get("scorePercentiles") {
            let pp = key_path(&pm_path, "scorePercentiles");
            for (k, v) in pcts {
                let x = j.num(v, &key_path(&pp, k))?;
                r.percentiles.insert(percentile_key(k), x);
            }
        }
        if let Some(Value::Object(sec)) = e.get("secondaryMetrics") {
            let sp = key_path(&path, "secondaryMetrics");
            for (name, m) in sec {
                let mp = key_path(&sp, name);
                let m = j.obj(m, &mp)?;
                // Older JMH prefixes profiler metrics with a middle dot.
                let measure = name.trim_start_matches('\u{b7}');
                if measure.is_empty() {
                    continue;
                }
                add_metric(&j, &mut series, bench, &params, measure, None, m, &mp)?;
            }
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

/// The JMH and JVM versions and the run's settings, as metadata.
fn copy_run_settings(e: &Map<String, Value>, metadata: &mut Map<String, Value>) {
    for key in [
        "jmhVersion",
        "jvm",
        "jdkVersion",
        "vmName",
        "vmVersion",
        "forks",
        "warmupIterations",
        "warmupTime",
        "measurementIterations",
        "measurementTime",
    ] {
        if let Some(x) = e.get(key).filter(|x| scalar_text(x).is_some()) {
            add_metadata(metadata, key, x.clone());
        }
    }
}

/// `@Param` values, and the thread count when the benchmark ran on more than one.
fn params_of(j: &J, e: &Map<String, Value>, path: &str) -> Result<Params, ParseError> {
    let mut params = Params::new();
    if let Some(Value::Object(p)) = e.get("params") {
        for (k, v) in p {
            params.insert(
                clean_key(k),
                clean_param(&scalar_text(v).unwrap_or_else(|| v.to_string())),
            );
        }
    }
    if let Some(t) = j.opt_num(e, "threads", path)? {
        if t > 1.0 {
            params.insert("threads".to_string(), t.to_string());
        }
    }
    Ok(params)
}

/// The measure a benchmark mode reports and which way is better.
fn measure_of(j: &J, mode: &str, path: &str) -> Result<(&'static str, Direction), ParseError> {
    Ok(match mode {
        "thrpt" => ("throughput", Direction::Higher),
        "avgt" => ("avg_time", Direction::Lower),
        "sample" => ("sample_time", Direction::Lower),
        "ss" => ("single_shot_time", Direction::Lower),
        _ => return Err(j.err(&key_path(path, "mode"), "one of thrpt, avgt, sample, ss")),
    })
}

#[allow(clippy::too_many_arguments)]
fn add_metric<'s>(
    j: &J,
    series: &'s mut Series,
    bench: &str,
    params: &Params,
    measure: &str,
    direction: Option<Direction>,
    m: &Map<String, Value>,
    path: &str,
) -> Result<&'s mut perfwatch_core::ResultInput, ParseError> {
    let unit = j.req_str(m, "scoreUnit", path)?;
    let unit = match unit.strip_suffix("/sec") {
        Some(base) => format!("{base}/s"),
        None => unit.to_string(),
    };
    let mut samples = Vec::new();
    if let Some(raw) = m.get("rawData").filter(|r| !r.is_null()) {
        let rp = key_path(path, "rawData");
        for (f, fork) in j.arr(raw, &rp)?.iter().enumerate() {
            samples.extend(j.nums(fork, &index_path(&rp, f))?);
        }
    } else if let Some(hist) = m.get("rawDataHistogram").filter(|r| !r.is_null()) {
        samples = expand_histogram(j, hist, &key_path(path, "rawDataHistogram"))?;
    }
    if samples.is_empty() {
        samples.push(j.req_num(m, "score", path)?);
    }
    series
        .add(Obs {
            benchmark: bench,
            params,
            measure,
            unit: &unit,
            direction,
            samples: &samples,
            iterations: None,
        })
        .map_err(at_path(F, path))
}

/// `[[ [[value, count], …] per iteration ] per fork]` → the values, each repeated
/// `count` times; empty (so the score is used) when that would exceed the sample cap.
fn expand_histogram(j: &J, hist: &Value, path: &str) -> Result<Vec<f64>, ParseError> {
    let mut pairs = Vec::new();
    let mut total: u64 = 0;
    for (f, fork) in j.arr(hist, path)?.iter().enumerate() {
        let fp = index_path(path, f);
        for (it, iteration) in j.arr(fork, &fp)?.iter().enumerate() {
            let ip = index_path(&fp, it);
            for (b, bin) in j.arr(iteration, &ip)?.iter().enumerate() {
                let bp = index_path(&ip, b);
                let pair = j.arr(bin, &bp)?;
                let (Some(value), Some(count)) = (pair.first(), pair.get(1)) else {
                    return Err(j.err(&bp, "a [value, count] pair"));
                };
                let value = j.num(value, &index_path(&bp, 0))?;
                let count = j.count(count, &index_path(&bp, 1))?;
                total = total.saturating_add(count);
                pairs.push((value, count));
            }
        }
    }
    if total > MAX_EXPANDED {
        return Ok(Vec::new());
    }
    Ok(pairs
        .into_iter()
        .flat_map(|(v, c)| std::iter::repeat_n(v, usize::try_from(c).unwrap_or(0)))
        .collect())
}

/// `"50.0"` → `"50"`, `"99.9"` stays.
fn percentile_key(k: &str) -> String {
    k.strip_suffix(".0").unwrap_or(k).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_mode_histograms_and_secondary_metrics() {
        let input = r#"[{"benchmark":"a.B.m","mode":"sample","threads":4,"params":{"size":"10"},
          "primaryMetric":{"score":2.0,"scoreUnit":"us/op","scorePercentiles":{"50.0":2.0,"99.9":5.0},
            "rawDataHistogram":[[[[1.0,2],[3.0,1]]]]},
          "secondaryMetrics":{"·gc.alloc.rate":{"score":10,"scoreUnit":"MB/sec","rawData":[[10,11]]}}}]"#;
        let p = parse(input).unwrap();
        assert_eq!(p.results[0].samples, vec![1.0, 1.0, 3.0]);
        assert_eq!(p.results[0].percentiles["99.9"], 5.0);
        assert_eq!(p.results[0].params["threads"], "4");
        assert_eq!(p.results[1].measure, "gc.alloc.rate");
        assert_eq!(p.results[1].unit, "MB/s");
    }
}
