//! vegeta's JSON report (`vegeta report -type=json`): `latencies` (ns: `mean`, `50th`,
//! `90th`, `95th`, `99th`, `max`, `min`), `requests`, `rate`, `throughput`, `success`
//! (a ratio) and `status_codes`.
//!
//! One benchmark, `vegeta` (the report names no target), read as perfwatch's load
//! series: `latency` in ms (mean as the sample, percentiles and max beside it),
//! `throughput` (successful requests/s, vegeta's `throughput`), `requests`, `failures`
//! (`requests × (1 − success)`, rounded) and `error_rate`; the attack's `rate`
//! (requests sent/s) is measure `rate`. Status codes and errors go to metadata.

use perfwatch_core::Direction;
use serde_json::{Map, Value};

use crate::common::{at_path, key_path, parse_json, Obs, Params, Series, J};
use crate::load_common::{percentile_key, LoadSummary};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Vegeta;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let lat = j.obj(j.field(root, "latencies", "")?, "latencies")?;
    let ms = |ns: f64| ns / 1e6;
    let mut out = LoadSummary {
        latency_mean_ms: Some(ms(j.req_num(lat, "mean", "latencies")?)),
        throughput: j.opt_num(root, "throughput", "")?,
        ..LoadSummary::default()
    };
    for (k, x) in lat {
        let q = match k.as_str() {
            "max" => Some("100".to_string()),
            "min" => Some("0".to_string()),
            "total" | "mean" => None,
            other => percentile_key(other),
        };
        if let Some(q) = q {
            out.percentiles_ms
                .push((q, ms(j.num(x, &key_path("latencies", k))?)));
        }
    }
    let requests = j.opt_num(root, "requests", "")?;
    out.requests = requests;
    if let (Some(n), Some(s)) = (requests, j.opt_num(root, "success", "")?) {
        if !(0.0..=1.0).contains(&s) {
            return Err(j.err("success", "a ratio between 0 and 1"));
        }
        out.failures = Some((n * (1.0 - s)).round());
    }
    let mut series = Series::default();
    out.add_to(&mut series, "vegeta").map_err(at_path(F, ""))?;
    if let Some(rate) = j.opt_num(root, "rate", "")? {
        series
            .add(Obs {
                benchmark: "vegeta",
                params: &Params::new(),
                measure: "rate",
                unit: "1/s",
                direction: Some(Direction::Higher),
                samples: &[rate],
                iterations: None,
            })
            .map_err(at_path(F, "rate"))?;
    }
    let mut metadata = Map::new();
    for key in [
        "status_codes",
        "errors",
        "earliest",
        "latest",
        "duration",
        "wait",
    ] {
        if let Some(x) = root.get(key).filter(|x| !x.is_null()) {
            metadata.insert(key.to_string(), x.clone());
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

/// `latencies` with `bytes_in` or `status_codes`.
pub(crate) fn looks_like(m: &Map<String, Value>) -> bool {
    m.get("latencies").is_some_and(Value::is_object)
        && (m.contains_key("bytes_in") || m.contains_key("status_codes"))
}
