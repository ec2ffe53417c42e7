//! Helpers every parser uses: the series accumulator (merges repeated lines of one
//! series into samples), name/parameter splitting, number checks and JSON walking that
//! names the path of a bad field. Nothing here panics on input.

use std::collections::{BTreeMap, HashMap};

use perfwatch_core::limits::{MAX_PARAMS, MAX_PARAM_KEY, MAX_PARAM_VALUE};
use perfwatch_core::{Direction, ResultInput};
use serde_json::{Map, Value};

use crate::{Format, Location, ParseError};

pub(crate) type Params = BTreeMap<String, String>;

/// Collects results, keyed like the core keys series (benchmark, measure, params), so
/// that `-count` repeats or repetitions become samples of one series.
#[derive(Default)]
pub(crate) struct Series {
    results: Vec<ResultInput>,
    index: HashMap<(String, String, Params), usize>,
}

/// One observation to add to a series.
pub(crate) struct Obs<'a> {
    pub benchmark: &'a str,
    pub params: &'a Params,
    pub measure: &'a str,
    pub unit: &'a str,
    pub direction: Option<Direction>,
    pub samples: &'a [f64],
    pub iterations: Option<u64>,
}

impl Series {
    /// Adds samples to a series, creating it on first sight. The error is what was
    /// expected (the caller knows the location).
    pub fn add(&mut self, o: Obs<'_>) -> Result<&mut ResultInput, String> {
        if let Some(bad) = o.samples.iter().find(|v| !v.is_finite()) {
            return Err(format!("a finite number for {} (got {bad})", o.measure));
        }
        let key = (
            o.benchmark.to_string(),
            o.measure.to_string(),
            o.params.clone(),
        );
        let i = match self.index.get(&key) {
            Some(&i) => {
                let r = self
                    .results
                    .get_mut(i)
                    .ok_or("an internal index in range")?;
                if r.unit != o.unit {
                    return Err(format!(
                        "one unit per series: {} {} was in {} and is now in {}",
                        o.benchmark, o.measure, r.unit, o.unit
                    ));
                }
                r.samples.extend_from_slice(o.samples);
                // Samples run with different iteration counts: no single count to report.
                if r.iterations != o.iterations {
                    r.iterations = None;
                }
                i
            }
            None => {
                self.results.push(ResultInput {
                    benchmark: o.benchmark.to_string(),
                    measure: o.measure.to_string(),
                    unit: o.unit.to_string(),
                    direction: o.direction,
                    params: o.params.clone(),
                    samples: o.samples.to_vec(),
                    percentiles: BTreeMap::new(),
                    iterations: o.iterations,
                });
                self.index.insert(key, self.results.len() - 1);
                self.results.len() - 1
            }
        };
        self.results
            .get_mut(i)
            .ok_or_else(|| "an internal index in range".to_string())
    }

    /// Adds an already built result (from another file or the native format).
    pub fn merge(&mut self, r: ResultInput) -> Result<(), String> {
        let percentiles = r.percentiles.clone();
        let added = self.add(Obs {
            benchmark: &r.benchmark,
            params: &r.params,
            measure: &r.measure,
            unit: &r.unit,
            direction: r.direction,
            samples: &r.samples,
            iterations: r.iterations,
        })?;
        for (k, v) in percentiles {
            if !v.is_finite() {
                return Err(format!("a finite number for percentile {k}"));
            }
            added.percentiles.insert(k, v);
        }
        Ok(())
    }

    /// The results; an input without any is an error.
    pub fn finish(self, format: Format) -> Result<Vec<ResultInput>, ParseError> {
        if self.results.is_empty() {
            return Err(ParseError::new(
                format,
                Location::Input,
                no_results_expectation(format),
            ));
        }
        Ok(self.results)
    }
}

/// What "at least one benchmark" looks like, per format, for the empty-input error.
fn no_results_expectation(format: Format) -> &'static str {
    match format {
        Format::Go | Format::GoJson => {
            "at least one benchmark line (\"BenchmarkName <iterations> <value> <unit> ...\")"
        }
        Format::Libtest => {
            "at least one \"test <name> ... bench: <value> ns/iter (+/- <range>)\" line; there are no benchmarks in this libtest output"
        }
        Format::Criterion => "at least one \"<name> time: [<low> <estimate> <high>]\" block",
        Format::CriterionJson => "at least one <benchmark>/new/sample.json or estimates.json",
        Format::Catch2 => "at least one benchmark row under a \"benchmark name\" table header",
        Format::Catch2Xml => "at least one <BenchmarkResults> element",
        _ => "at least one benchmark result",
    }
}

/// Splits a hierarchical name into the name proper and `key<sep>value` parameter
/// segments (`BenchmarkFib/n=10` → `BenchmarkFib` + `n=10`). The first segment always
/// stays in the name; segments that cannot be parameters (empty key, `,` in them, a key
/// already seen, too many) stay in the name too, so nothing is lost.
pub(crate) fn split_params(name: &str, kv: char) -> (String, Params) {
    let mut kept: Vec<&str> = Vec::new();
    let mut params = Params::new();
    for (i, seg) in name.split('/').enumerate() {
        let as_param = match seg.split_once(kv) {
            Some((k, v)) if i > 0 => {
                let ok = !k.is_empty()
                    && k.chars().count() <= MAX_PARAM_KEY
                    && v.chars().count() <= MAX_PARAM_VALUE
                    && !k.contains([',', '='])
                    && !v.contains(',')
                    && !seg.chars().any(char::is_control)
                    && !params.contains_key(k)
                    && params.len() < MAX_PARAMS - 4;
                ok.then_some((k, v))
            }
            _ => None,
        };
        match as_param {
            Some((k, v)) => {
                params.insert(k.to_string(), v.to_string());
            }
            None => kept.push(seg),
        }
    }
    (kept.join("/"), params)
}

/// Makes a harness-given text acceptable as a parameter value: the core forbids `,`
/// (it separates parameters in the series key) and control characters, and caps length.
pub(crate) fn clean_param(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            ',' => ';',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(MAX_PARAM_VALUE)
        .collect()
}

/// A parameter key: no `=` or `,`, no control characters, capped.
pub(crate) fn clean_key(k: &str) -> String {
    k.chars()
        .map(|c| match c {
            ',' | '=' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(MAX_PARAM_KEY)
        .collect()
}

/// A finite number from text, or None.
pub(crate) fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Records a metadata value; a key seen again with another value keeps every distinct
/// value in an array (e.g. two `pkg:` lines of a multi-package Go run).
pub(crate) fn add_metadata(meta: &mut Map<String, Value>, key: &str, value: Value) {
    match meta.get_mut(key) {
        None => {
            meta.insert(key.to_string(), value);
        }
        Some(Value::Array(items)) if items.first().is_some_and(|f| !f.is_array()) => {
            if !items.contains(&value) {
                items.push(value);
            }
        }
        Some(old) if *old != value => {
            let first = old.take();
            *old = Value::Array(vec![first, value]);
        }
        Some(_) => {}
    }
}

/// Text of a scalar JSON value (strings as they are, numbers and booleans printed).
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Copies the scalar fields of `obj` named in `keys` into `meta` (prefixed).
pub(crate) fn copy_scalars(
    meta: &mut Map<String, Value>,
    obj: &Map<String, Value>,
    keys: &[&str],
    prefix: &str,
) {
    for k in keys {
        if let Some(v) = obj.get(*k) {
            if matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                add_metadata(meta, &format!("{prefix}{k}"), v.clone());
            }
        }
    }
}

/// A JSON path helper for error messages: `benchmarks[3].real_time`.
pub(crate) fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn index_path(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Parses a whole JSON document, locating a syntax error by line.
pub(crate) fn parse_json(format: Format, input: &str) -> Result<Value, ParseError> {
    let input = input.trim_start_matches('\u{feff}');
    serde_json::from_str(input)
        .map_err(|e| ParseError::line(format, e.line().max(1), format!("well-formed JSON ({e})")))
}

/// Typed access to JSON objects with errors naming the path.
pub(crate) struct J {
    pub format: Format,
}

impl J {
    pub fn err(&self, path: &str, expected: impl Into<String>) -> ParseError {
        ParseError::path(self.format, path, expected)
    }

    pub fn obj<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, ParseError> {
        v.as_object().ok_or_else(|| self.err(path, "an object"))
    }

    pub fn arr<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Vec<Value>, ParseError> {
        v.as_array().ok_or_else(|| self.err(path, "an array"))
    }

    /// A required field.
    pub fn field<'v>(
        &self,
        m: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v Value, ParseError> {
        m.get(key)
            .ok_or_else(|| self.err(&key_path(path, key), "a value (field missing)"))
    }

    /// A finite number.
    pub fn num(&self, v: &Value, path: &str) -> Result<f64, ParseError> {
        v.as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.err(path, "a finite number"))
    }

    /// An optional number field: absent or null is None, anything else must be a number.
    pub fn opt_num(
        &self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<f64>, ParseError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.num(v, &key_path(path, key)).map(Some),
        }
    }

    /// A required number field.
    pub fn req_num(
        &self,
        m: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<f64, ParseError> {
        self.num(self.field(m, key, path)?, &key_path(path, key))
    }

    pub fn req_str<'v>(
        &self,
        m: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v str, ParseError> {
        self.field(m, key, path)?
            .as_str()
            .ok_or_else(|| self.err(&key_path(path, key), "a string"))
    }

    /// An optional string field: absent or null is None.
    pub fn opt_str<'v>(
        &self,
        m: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'v str>, ParseError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(&key_path(path, key), "a string")),
        }
    }

    /// An array of finite numbers.
    pub fn nums(&self, v: &Value, path: &str) -> Result<Vec<f64>, ParseError> {
        let a = self.arr(v, path)?;
        a.iter()
            .enumerate()
            .map(|(i, x)| self.num(x, &index_path(path, i)))
            .collect()
    }

    /// A non-negative integer (iteration counts).
    pub fn count(&self, v: &Value, path: &str) -> Result<u64, ParseError> {
        if let Some(n) = v.as_u64() {
            return Ok(n);
        }
        // Some harnesses print counts as floats (`2053.0`).
        match v.as_f64() {
            Some(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
            _ => Err(self.err(path, "a non-negative whole number")),
        }
    }
}

/// Maps a series-level error (from [`Series::add`]) onto a location.
pub(crate) fn at_line(format: Format, line: usize) -> impl Fn(String) -> ParseError {
    move |e| ParseError::line(format, line, e)
}

pub(crate) fn at_path(format: Format, path: &str) -> impl Fn(String) -> ParseError + '_ {
    move |e| ParseError::path(format, path, e)
}

/// The fields of one CSV line (RFC 4180 quoting: `"a,b"`, `""` inside quotes), for the
/// line-oriented readers that report errors by line number. An unterminated quote runs
/// to the end of the line.
pub fn csv_line(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => record.iter().map(str::to_string).collect(),
        // The csv crate only fails a record on invalid UTF-8, which a &str cannot hold.
        Some(Err(_)) | None => vec![String::new()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_honour_quotes_and_doubled_quotes() {
        assert_eq!(csv_line(r#"GET,"/a,b",12"#), ["GET", "/a,b", "12"]);
        assert_eq!(csv_line(r#""say ""hi""",x"#), [r#"say "hi""#, "x"]);
        assert_eq!(csv_line(""), [""]);
        assert_eq!(csv_line("a,,b"), ["a", "", "b"]);
    }

    #[test]
    fn splits_key_value_segments_into_params() {
        let (n, p) = split_params("BenchmarkNew/text=go/size=100K/small", '=');
        assert_eq!(n, "BenchmarkNew/small");
        assert_eq!(p.get("text").map(String::as_str), Some("go"));
        assert_eq!(p.get("size").map(String::as_str), Some("100K"));
        let (n, p) = split_params("a=1/b=2/b=3/c=x,y", '=');
        assert_eq!(n, "a=1/b=3/c=x,y");
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn merges_samples_and_rejects_unit_changes() {
        let mut s = Series::default();
        let p = Params::new();
        let obs = |v: &'static [f64], unit: &'static str, it| Obs {
            benchmark: "b",
            params: &p,
            measure: "time",
            unit,
            direction: None,
            samples: v,
            iterations: Some(it),
        };
        s.add(obs(&[1.0], "ns", 10)).unwrap();
        s.add(obs(&[2.0], "ns", 11)).unwrap();
        s.add(obs(&[3.0], "ns", 10)).unwrap();
        assert!(s.add(obs(&[3.0], "ms", 10)).is_err());
        assert!(s.add(obs(&[f64::NAN], "ns", 10)).is_err());
        let r = s.finish(Format::Go).unwrap();
        assert_eq!(r[0].samples, vec![1.0, 2.0, 3.0]);
        assert_eq!(r[0].iterations, None);
    }

    #[test]
    fn repeated_metadata_keeps_distinct_values() {
        let mut m = Map::new();
        add_metadata(&mut m, "pkg", Value::from("a"));
        add_metadata(&mut m, "pkg", Value::from("a"));
        assert_eq!(m["pkg"], Value::from("a"));
        add_metadata(&mut m, "pkg", Value::from("b"));
        add_metadata(&mut m, "pkg", Value::from("c"));
        add_metadata(&mut m, "pkg", Value::from("b"));
        assert_eq!(m["pkg"], serde_json::json!(["a", "b", "c"]));
    }
}
