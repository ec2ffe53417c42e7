//! Window collection: each query evaluated at the window's end over its length, with
//! its sample coverage over the window measured by a range query.
//!
//! Values that cannot be trusted are kept and marked `invalid` with the reason (low
//! coverage, no data where required, NaN/Inf, more series than the mode allows), so a
//! broken scrape never reads as "no change".

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Mode, OnEmpty, PromSource, QuerySpec};
use crate::prometheus::{Labels, PromClient, QueryData, SourceError};
use crate::template::{expand, expand_for_coverage, WindowVars};

/// Below this share of expected points a value is invalid.
pub const MIN_COVERAGE: f64 = 0.95;
/// Prometheus refuses range queries of more than 11,000 points per series.
const MAX_POINTS: i64 = 11_000;

/// Everything collected for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub values: Vec<CollectedValue>,
}

/// One value of one query (one per label value for `by` queries).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedValue {
    /// The query's name.
    pub query: String,
    /// `(label, value)` for `by` queries.
    pub label: Option<(String, String)>,
    /// None for no data or a non-finite result.
    pub value: Option<f64>,
    /// The exact expanded PromQL of the instant query.
    pub query_text: String,
    pub evaluated_at: DateTime<Utc>,
    pub window_s: f64,
    /// Result series behind this value at the window end.
    pub series_count: usize,
    /// Share (0–1) of the expected steps over the window at which the series had a point.
    pub coverage: f64,
    /// Why the value must not be used; None when it is valid.
    pub invalid: Option<String>,
    /// Anything else a reader should know (an empty result read as zero, …).
    pub note: Option<String>,
}

/// When the window `…end` may be queried: `end + settle`.
pub fn not_before(src: &PromSource, end: DateTime<Utc>) -> DateTime<Utc> {
    let settle = chrono::Duration::from_std(src.settle).unwrap_or(chrono::Duration::MAX);
    end.checked_add_signed(settle)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Evaluates every query over the window of `vars`. Fails with
/// [`SourceError::NotSettled`] before [`not_before`], and on the first source error.
pub async fn collect_window(
    src: &PromSource,
    queries: &[QuerySpec],
    vars: &WindowVars,
) -> Result<Collection, SourceError> {
    if vars.end <= vars.start {
        return Err(SourceError::Window(format!(
            "end {} is not after start {}",
            vars.end.to_rfc3339(),
            vars.start.to_rfc3339()
        )));
    }
    let nb = not_before(src, vars.end);
    if Utc::now() < nb {
        return Err(SourceError::NotSettled { not_before: nb });
    }
    let client = PromClient::new(src)?;
    let (step, expected) = coverage_step(src.scrape_interval, vars.window_ms());
    // Four scrape intervals hold at least two samples for rate() even with jitter,
    // yet are short enough that a gap in the data shows as missing steps.
    let coverage_range = src.scrape_interval.checked_mul(4).unwrap_or(Duration::MAX);
    let mut values = Vec::new();
    for spec in queries {
        let template_err = |e: crate::template::TemplateError| SourceError::Template {
            query: spec.name.clone(),
            reason: e.to_string(),
        };
        let text = expand(&spec.template, vars).map_err(template_err)?;
        let cov_text =
            expand_for_coverage(&spec.template, vars, coverage_range).map_err(template_err)?;
        let at_end = client.instant(&text, vars.end).await?;
        let over = client.range(&cov_text, vars.start, vars.end, step).await?;
        let base = CollectedValue {
            query: spec.name.clone(),
            label: None,
            value: None,
            query_text: text,
            evaluated_at: vars.end,
            window_s: vars.window_ms() as f64 / 1000.0,
            series_count: 0,
            coverage: 0.0,
            invalid: None,
            note: None,
        };
        let points = points_by_key(&over, &spec.mode);
        values.extend(judge(spec, base, &at_end, &points, expected, step)?);
    }
    Ok(Collection {
        start: vars.start,
        end: vars.end,
        values,
    })
}

/// Step of the coverage query and the number of points expected at that step.
fn coverage_step(scrape: Duration, window_ms: i64) -> (Duration, i64) {
    let mut step_ms = i64::try_from(scrape.as_millis()).unwrap_or(i64::MAX).max(1);
    if window_ms / step_ms + 1 > MAX_POINTS {
        step_ms = window_ms / (MAX_POINTS - 1) + 1;
    }
    let step = Duration::from_millis(u64::try_from(step_ms).unwrap_or(u64::MAX));
    (step, window_ms / step_ms + 1)
}

/// Distinct timestamps with a finite point, per label value (`None` key for Single).
fn points_by_key(over: &QueryData, mode: &Mode) -> BTreeMap<Option<String>, BTreeSet<i64>> {
    let mut out: BTreeMap<Option<String>, BTreeSet<i64>> = BTreeMap::new();
    let series: Vec<(&Labels, Vec<f64>)> = match over {
        QueryData::Matrix(m) => m
            .iter()
            .map(|(l, pts)| {
                (
                    l,
                    pts.iter()
                        .filter(|p| p.1.is_finite())
                        .map(|p| p.0)
                        .collect(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    for (labels, ts) in series {
        let key = match mode {
            Mode::Single => None,
            Mode::ByLabel(l) => Some(labels.get(l).cloned().unwrap_or_default()),
        };
        let set = out.entry(key).or_default();
        set.extend(ts.into_iter().map(|t| (t * 1000.0).round() as i64));
    }
    out
}

/// Turns the instant result into values, applying the empty, coverage and finiteness rules.
fn judge(
    spec: &QuerySpec,
    base: CollectedValue,
    at_end: &QueryData,
    points: &BTreeMap<Option<String>, BTreeSet<i64>>,
    expected: i64,
    step: Duration,
) -> Result<Vec<CollectedValue>, SourceError> {
    let coverage_of = |key: &Option<String>| -> (f64, usize) {
        let seen = points.get(key).map_or(0, BTreeSet::len);
        ((seen as f64 / expected.max(1) as f64).min(1.0), seen)
    };
    // Group the instant result by the key the mode asks for.
    let mut groups: BTreeMap<Option<String>, Vec<f64>> = BTreeMap::new();
    match (at_end, &spec.mode) {
        (QueryData::Vector(v), Mode::Single) => {
            if !v.is_empty() {
                groups.insert(None, v.iter().map(|s| s.1).collect());
            }
        }
        (QueryData::Vector(v), Mode::ByLabel(l)) => {
            for (labels, x) in v {
                let key = Some(labels.get(l).cloned().unwrap_or_default());
                groups.entry(key).or_default().push(*x);
            }
            // Label values seen during the window but gone at its end must show up too.
            for key in points.keys() {
                groups.entry(key.clone()).or_default();
            }
        }
        (QueryData::Scalar(x), Mode::Single) => {
            groups.insert(None, vec![*x]);
        }
        (other, _) => {
            let kind = match other {
                QueryData::Matrix(_) => "a range vector",
                QueryData::String(_) => "a string",
                _ => "a scalar, which cannot be split by label",
            };
            let mut v = base;
            v.invalid = Some(format!(
                "the query returns {kind}, not one number per value"
            ));
            return Ok(vec![v]);
        }
    }
    if groups.values().all(Vec::is_empty) {
        return empty(spec, base, coverage_of(&None).0);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, xs) in groups {
        let mut v = base.clone();
        let (coverage, seen) = coverage_of(&key);
        v.coverage = coverage;
        v.series_count = xs.len();
        if let (Some(value), Mode::ByLabel(l)) = (&key, &spec.mode) {
            v.label = Some((l.clone(), value.clone()));
            if value.is_empty() {
                v.invalid = Some(format!("series without the label `{l}`"));
            }
        }
        v.invalid = v.invalid.or(match xs.as_slice() {
            [] => Some("no value at the window end (the series stopped during the window)".into()),
            [x] if !x.is_finite() => Some(format!(
                "the value is {x} (e.g. a quantile or ratio over no observations)"
            )),
            [x] => {
                v.value = Some(*x);
                None
            }
            many => Some(format!(
                "{} series where one is expected: aggregate them or set `by`",
                many.len()
            )),
        });
        if v.invalid.is_none() && coverage < MIN_COVERAGE {
            v.invalid = Some(format!(
                "coverage {coverage:.3} < {MIN_COVERAGE}: points at {seen} of {expected} steps of {}s over the window",
                step.as_secs_f64()
            ));
        }
        out.push(v);
    }
    Ok(out)
}

/// The rules for an empty result.
fn empty(
    spec: &QuerySpec,
    mut v: CollectedValue,
    coverage: f64,
) -> Result<Vec<CollectedValue>, SourceError> {
    v.coverage = coverage;
    match spec.on_empty {
        OnEmpty::Error => {
            return Err(SourceError::Empty {
                query: spec.name.clone(),
            })
        }
        // Without any series there are no label values to give a 0 to.
        OnEmpty::Zero if matches!(spec.mode, Mode::ByLabel(_)) => {
            v.note = Some("empty result: no label values to report 0 for".into());
        }
        OnEmpty::Zero => {
            v.value = Some(0.0);
            v.note = Some("empty result read as 0 (empty = \"zero\"); coverage not applied".into());
        }
        OnEmpty::NoData if spec.required => {
            v.invalid = Some("no data, and the query is required".into());
        }
        OnEmpty::NoData => v.note = Some("no data (the query is not required)".into()),
    }
    Ok(vec![v])
}

#[cfg(test)]
#[path = "collect_tests.rs"]
mod tests;
