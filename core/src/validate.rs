//! Validation of submitted runs and annotations. Produces a [`ValidRun`] whose values
//! are finite and in canonical units, or every problem found, each naming the field
//! path (`results[3].samples[0]`) and the reason. Nothing is stored unless this passes.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::limits::*;
use crate::model::*;
use crate::summary::summarize;
use crate::units::{default_direction, normalize_unit, Direction, UnitKind};

/// One problem with the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `results[2].samples[0]`; `` for the body.
    pub path: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Every problem found in one input (capped, so a million bad samples make one short answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{} invalid field(s), first: {}: {}", errors.len(), errors.first().map(|e| e.path.as_str()).unwrap_or(""), errors.first().map(|e| e.reason.as_str()).unwrap_or(""))]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

const MAX_REPORTED: usize = 50;

struct Collector(Vec<FieldError>);

impl Collector {
    fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        if self.0.len() < MAX_REPORTED {
            self.0.push(FieldError::new(path, reason));
        }
    }
    fn name(&mut self, path: &str, value: &str, max: usize, required: bool) {
        if required && value.trim().is_empty() {
            self.push(path, "must not be empty");
        } else if value.chars().count() > max {
            self.push(path, format!("longer than {max} characters"));
        } else if value.chars().any(|c| c.is_control()) {
            self.push(path, "must not contain control characters");
        }
    }
}

/// A validated result, values in the canonical unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidResult {
    pub benchmark: String,
    pub measure: String,
    /// Canonical unit (values are in it).
    pub unit: String,
    /// Unit as submitted, for display.
    pub display_unit: String,
    pub direction: Direction,
    pub params: BTreeMap<String, String>,
    pub params_key: String,
    pub samples: Vec<f64>,
    pub summary: Summary,
    pub percentiles: BTreeMap<String, f64>,
    pub iterations: Option<u64>,
}

/// A validated run, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidRun {
    pub project: String,
    pub branch: Option<String>,
    pub commit: Option<CommitInput>,
    pub testbed: String,
    pub run_key: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub trigger: Option<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub results: Vec<ValidResult>,
}

/// Project slugs: lowercase letters, digits, `-`, `_`, `.`; they appear in URLs.
pub fn check_slug(path: &str, slug: &str) -> Result<(), FieldError> {
    if slug.is_empty() {
        return Err(FieldError::new(path, "must not be empty"));
    }
    if slug.len() > MAX_PROJECT_SLUG {
        return Err(FieldError::new(
            path,
            format!("longer than {MAX_PROJECT_SLUG} characters"),
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
    {
        return Err(FieldError::new(
            path,
            "may contain only lowercase letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(())
}

/// Commit shas: 4 to 64 hex digits (abbreviated shas are accepted, full ones preferred).
pub fn check_sha(path: &str, sha: &str) -> Result<(), FieldError> {
    if sha.len() < 4 || sha.len() > MAX_SHA || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(FieldError::new(path, "must be 4 to 64 hexadecimal digits"));
    }
    Ok(())
}

/// Parses a JSON body into a run submission, naming the path of a wrong or missing field.
pub fn parse_run_json(body: &[u8]) -> Result<RunSubmission, ValidationErrors> {
    parse_json(body)
}

/// Parses any JSON body, with the same error shape as runs.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ValidationErrors> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(ValidationErrors {
            errors: vec![FieldError::new(
                "",
                format!("body is not valid UTF-8 (byte {})", e.valid_up_to()),
            )],
        });
    }
    // Every body is an object; serde would also read a struct from an array, which
    // gives confusing errors.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(ValidationErrors {
            errors: vec![FieldError::new("", "expected a JSON object")],
        });
    }
    // Plain serde first: tracking every field's path cost as much as the parse itself
    // (POST /runs profile, docs/benchmarks.md) and is only needed to name the field of
    // an error, so only a body that fails is read again that way.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let text = String::from_utf8_lossy(body);
        let non_finite = ["NaN", "Infinity"].iter().any(|t| text.contains(t));
        let reason = if inner.is_syntax() && non_finite {
            format!("malformed JSON: NaN and Infinity are not JSON numbers; values must be finite ({inner})")
        } else if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        ValidationErrors {
            errors: vec![FieldError::new(path, reason)],
        }
    })
}

/// Checks a run and converts its values to canonical units.
pub fn validate_run(run: RunSubmission) -> Result<ValidRun, ValidationErrors> {
    let mut c = Collector(Vec::new());
    let testbed = run.testbed.clone().unwrap_or_else(|| "default".to_string());
    check_run_fields(&mut c, &run, &testbed);
    let mut seen = HashSet::new();
    let mut results = Vec::with_capacity(run.results.len());
    for (i, r) in run.results.into_iter().enumerate() {
        if let Some(valid) = validate_result(&mut c, &mut seen, i, r) {
            results.push(valid);
        }
    }
    if !c.0.is_empty() {
        return Err(ValidationErrors { errors: c.0 });
    }
    Ok(ValidRun {
        project: run.project,
        branch: run.branch,
        commit: run.commit,
        testbed,
        run_key: run.run_key,
        started_at: run.started_at,
        finished_at: run.finished_at,
        trigger: run.trigger,
        metadata: run.metadata,
        results,
    })
}

/// The run's own fields (everything but the results' contents), in the order the
/// errors are reported.
fn check_run_fields(c: &mut Collector, run: &RunSubmission, testbed: &str) {
    if let Err(e) = check_slug("project", &run.project) {
        c.0.push(e);
    }
    if let Some(b) = &run.branch {
        c.name("branch", b, MAX_BRANCH, true);
    }
    if let Some(commit) = &run.commit {
        check_commit(c, commit);
    }
    c.name("testbed", testbed, MAX_TESTBED, true);
    if let Some(k) = &run.run_key {
        c.name("run_key", k, MAX_RUN_KEY, true);
    }
    if let Some(t) = &run.trigger {
        c.name("trigger", t, MAX_TRIGGER, false);
    }
    if let (Some(s), Some(f)) = (run.started_at, run.finished_at) {
        if f < s {
            c.push("finished_at", "is before started_at (negative duration)");
        }
    }
    if run.results.is_empty() {
        c.push("results", "must hold at least one result");
    }
    if run.results.len() > MAX_RESULTS_PER_RUN {
        c.push(
            "results",
            format!("more than {MAX_RESULTS_PER_RUN} results"),
        );
    }
}

fn check_commit(c: &mut Collector, commit: &CommitInput) {
    if let Err(e) = check_sha("commit.sha", &commit.sha) {
        c.0.push(e);
    }
    if let Some(p) = &commit.parent {
        if let Err(e) = check_sha("commit.parent", p) {
            c.0.push(e);
        }
    }
    if let Some(a) = &commit.author {
        c.name("commit.author", a, MAX_AUTHOR, false);
    }
    if let Some(m) = &commit.message {
        if m.chars().count() > MAX_MESSAGE {
            c.push(
                "commit.message",
                format!("longer than {MAX_MESSAGE} characters"),
            );
        }
    }
}

/// Checks result `i` and, when it has no problem, converts it to canonical units.
/// `seen` holds the series keys of the results before it, to catch duplicates.
fn validate_result(
    c: &mut Collector,
    seen: &mut HashSet<(String, String, String)>,
    i: usize,
    r: ResultInput,
) -> Option<ValidResult> {
    let p = format!("results[{i}]");
    let before = c.0.len();
    c.name(&format!("{p}.benchmark"), &r.benchmark, MAX_BENCHMARK, true);
    c.name(&format!("{p}.measure"), &r.measure, MAX_MEASURE, true);
    c.name(&format!("{p}.unit"), &r.unit, MAX_UNIT, true);
    check_params(c, &p, &r.params);
    let unit = normalize_unit(&r.unit);
    // Durations, sizes and counts (instructions, cache misses) cannot be negative.
    let nonneg = matches!(
        unit.kind,
        UnitKind::Time | UnitKind::Bytes | UnitKind::Count
    );
    check_samples(c, &p, &r, nonneg);
    check_percentiles(c, &p, &r.percentiles, nonneg);
    let params_key = params_key(&r.params);
    let key = (r.benchmark.clone(), r.measure.clone(), params_key.clone());
    if !seen.insert(key) {
        c.push(
            p.clone(),
            format!(
                "duplicate series: benchmark '{}', measure '{}' and params '{}' appear twice in this run",
                r.benchmark, r.measure, params_key
            ),
        );
    }
    if c.0.len() > before {
        return None;
    }
    let samples: Vec<f64> = r.samples.iter().map(|v| v * unit.factor).collect();
    let summary = summarize(&samples).expect("non-empty, checked above");
    Some(ValidResult {
        direction: r
            .direction
            .unwrap_or_else(|| default_direction(&r.measure, &r.unit)),
        benchmark: r.benchmark,
        measure: r.measure,
        unit: unit.canonical.clone(),
        display_unit: r.unit,
        params: r.params,
        params_key,
        samples,
        summary,
        percentiles: r
            .percentiles
            .into_iter()
            .map(|(k, v)| (k, v * unit.factor))
            .collect(),
        iterations: r.iterations,
    })
}

/// Parameters become part of the series key `k=v,k=v`, so `,` and `=` would make
/// two different parameter sets collide.
fn check_params(c: &mut Collector, p: &str, params: &BTreeMap<String, String>) {
    if params.len() > MAX_PARAMS {
        c.push(
            format!("{p}.params"),
            format!("more than {MAX_PARAMS} parameters"),
        );
    }
    for (k, v) in params {
        c.name(&format!("{p}.params.{k}"), k, MAX_PARAM_KEY, true);
        c.name(&format!("{p}.params.{k}"), v, MAX_PARAM_VALUE, false);
        if k.contains(['=', ',']) || v.contains(',') {
            c.push(
                format!("{p}.params.{k}"),
                "must not contain ',' (nor '=' in the key)",
            );
        }
    }
}

fn check_samples(c: &mut Collector, p: &str, r: &ResultInput, nonneg: bool) {
    if r.samples.is_empty() {
        c.push(format!("{p}.samples"), "must hold at least one sample");
    }
    if r.samples.len() > MAX_SAMPLES_PER_RESULT {
        c.push(
            format!("{p}.samples"),
            format!("more than {MAX_SAMPLES_PER_RESULT} samples"),
        );
    }
    for (j, v) in r.samples.iter().enumerate() {
        if !v.is_finite() {
            c.push(
                format!("{p}.samples[{j}]"),
                "must be a finite number (no NaN or Infinity)",
            );
        } else if nonneg && *v < 0.0 {
            c.push(
                format!("{p}.samples[{j}]"),
                format!("must not be negative for a {} unit", r.unit),
            );
        }
    }
}

fn check_percentiles(
    c: &mut Collector,
    p: &str,
    percentiles: &BTreeMap<String, f64>,
    nonneg: bool,
) {
    for (k, v) in percentiles {
        let ok = k
            .parse::<f64>()
            .map(|q| (0.0..=100.0).contains(&q))
            .unwrap_or(false);
        if !ok {
            c.push(
                format!("{p}.percentiles.{k}"),
                "key must be a percentile between 0 and 100",
            );
        }
        if !v.is_finite() || (nonneg && *v < 0.0) {
            c.push(
                format!("{p}.percentiles.{k}"),
                "must be a finite, non-negative number",
            );
        }
    }
}

/// Checks a release or annotation.
pub fn validate_annotation(a: &AnnotationInput) -> Result<(), ValidationErrors> {
    let mut c = Collector(Vec::new());
    if let Err(e) = check_slug("project", &a.project) {
        c.0.push(e);
    }
    c.name("name", &a.name, MAX_ANNOTATION_NAME, true);
    if let Some(sha) = &a.commit {
        if let Err(e) = check_sha("commit", sha) {
            c.0.push(e);
        }
    }
    if a.commit.is_none() && a.time.is_none() {
        c.push("commit", "give a commit, a time, or both");
    }
    if let Some(d) = &a.description {
        if d.chars().count() > MAX_MESSAGE {
            c.push(
                "description",
                format!("longer than {MAX_MESSAGE} characters"),
            );
        }
    }
    if c.0.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors { errors: c.0 })
    }
}

#[cfg(test)]
mod tests;
