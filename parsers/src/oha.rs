//! oha's JSON output (`oha --output-format json` / `-j`): `summary`,
//! `latencyPercentiles`, `statusCodeDistribution`, `errorDistribution`, all times in
//! seconds.
//!
//! One benchmark, named by the caller's file (oha does not print the URL): `oha`. Read
//! as perfwatch's load series: `latency` in ms (the average as the sample, the
//! percentiles beside it), `throughput` (`summary.requestsPerSec`), `requests` (the sum
//! of the status-code and error distributions), `failures` (errors plus non-2xx/3xx
//! responses) and `error_rate`. Status and error counts go to metadata.

use serde_json::{Map, Value};

use crate::common::{at_path, key_path, parse_json, Series, J};
use crate::load_common::{percentile_key, LoadSummary};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Oha;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let summary = j.obj(j.field(root, "summary", "")?, "summary")?;
    let secs = |x: f64| x * 1000.0;
    let mut out = LoadSummary {
        latency_mean_ms: j.opt_num(summary, "average", "summary")?.map(secs),
        throughput: j.opt_num(summary, "requestsPerSec", "summary")?,
        ..LoadSummary::default()
    };
    if let Some(p) = root.get("latencyPercentiles").filter(|p| !p.is_null()) {
        let pp = "latencyPercentiles";
        for (k, x) in j.obj(p, pp)? {
            if x.is_null() {
                continue;
            }
            let q = percentile_key(k)
                .ok_or_else(|| j.err(&key_path(pp, k), "a percentile key like p99"))?;
            out.percentiles_ms
                .push((q, secs(j.num(x, &key_path(pp, k))?)));
        }
    }
    let mut metadata = Map::new();
    let (mut requests, mut failures) = (0.0, 0.0);
    let mut counted = false;
    for key in ["statusCodeDistribution", "errorDistribution"] {
        let Some(d) = root.get(key).filter(|d| !d.is_null()) else {
            continue;
        };
        counted = true;
        for (code, n) in j.obj(d, key)? {
            let n = j.num(n, &key_path(key, code))?;
            requests += n;
            let ok =
                key == "statusCodeDistribution" && (code.starts_with('2') || code.starts_with('3'));
            if !ok {
                failures += n;
            }
        }
        metadata.insert(key.to_string(), d.clone());
    }
    if counted {
        out.requests = Some(requests);
        out.failures = Some(failures);
    }
    if let Some(r) = summary.get("successRate").filter(|r| r.is_number()) {
        metadata.insert("success_rate".into(), r.clone());
    }
    let mut series = Series::default();
    out.add_to(&mut series, "oha")
        .map_err(at_path(F, "summary"))?;
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

/// `summary.requestsPerSec` next to `latencyPercentiles` or `statusCodeDistribution`.
pub(crate) fn looks_like(m: &Map<String, Value>) -> bool {
    m.get("summary")
        .is_some_and(|s| s.get("requestsPerSec").is_some())
        && (m.contains_key("latencyPercentiles") || m.contains_key("statusCodeDistribution"))
}
