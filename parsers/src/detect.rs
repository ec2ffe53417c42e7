//! Format detection by content sniffing. JSON documents are told apart by their
//! distinctive keys, text by the first line that only one harness prints. A file name
//! only breaks ties when the content says nothing.

use serde_json::{Map, Value};

use crate::Format;

/// The format of `input`, if it looks like one of the supported ones.
pub fn detect_format(input: &str) -> Option<Format> {
    detect_format_with_hint(input, None)
}

/// Like [`detect_format`], falling back on the file name (`*.xml` → catch2-xml,
/// `*.jsonl` → go-json, `*.bench` → go) when the content decides nothing.
pub fn detect_format_with_hint(input: &str, file_name: Option<&str>) -> Option<Format> {
    by_content(input).or_else(|| file_name.and_then(by_name))
}

fn by_content(input: &str) -> Option<Format> {
    let t = input.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return (t.contains("<Catch") && t.contains("BenchmarkResults"))
            .then_some(Format::Catch2Xml);
    }
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return json_kind(&v);
        }
        // Several JSON documents, one per line: test2json.
        let first = t.lines().next().unwrap_or("");
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(first) {
            if m.contains_key("Action") {
                return Some(Format::GoJson);
            }
        }
        return None;
    }
    text_kind(t)
}

fn json_kind(v: &Value) -> Option<Format> {
    match v {
        Value::Array(items) => array_kind(items),
        // In this order: the first match wins.
        Value::Object(m) => marked_kind(v, m)
            .or_else(|| list_kind(m))
            .or_else(|| k6_criterion_or_bmf(m)),
        _ => None,
    }
}

/// A top-level array: Julia's BenchmarkTools, JMH, or native results.
fn array_kind(items: &[Value]) -> Option<Format> {
    if crate::julia::looks_like(items) {
        return Some(Format::Julia);
    }
    let first = items.first()?.as_object()?;
    if first.contains_key("primaryMetric")
        || (first.contains_key("benchmark") && first.contains_key("mode"))
    {
        Some(Format::Jmh)
    } else if first.contains_key("benchmark") && first.contains_key("measure") {
        Some(Format::Native)
    } else {
        None
    }
}

/// Objects whose own keys name the tool (a version field, a signature key).
fn marked_kind(v: &Value, m: &Map<String, Value>) -> Option<Format> {
    if m.contains_key("Action") {
        return Some(Format::GoJson);
    }
    if m.contains_key("dhatFileVersion") {
        return Some(Format::Dhat);
    }
    if crate::vitest::looks_like(m) {
        return Some(Format::Vitest);
    }
    if crate::asv::looks_like(m) || crate::asv::is_benchmarks_json(v) {
        return Some(Format::Asv);
    }
    if crate::oha::looks_like(m) {
        return Some(Format::Oha);
    }
    if crate::vegeta::looks_like(m) {
        return Some(Format::Vegeta);
    }
    if crate::goose::looks_like(m) {
        return Some(Format::Goose);
    }
    None
}

/// Objects holding a list of benchmarks, told apart by the fields of its entries.
fn list_kind(m: &Map<String, Value>) -> Option<Format> {
    if let Some(Value::Array(b)) = m.get("benchmarks") {
        let first = b.first().and_then(Value::as_object);
        if m.contains_key("machine_info") || first.is_some_and(|f| f.contains_key("stats")) {
            return Some(Format::Pytest);
        }
        if m.contains_key("context") || first.is_some_and(|f| f.contains_key("real_time")) {
            return Some(Format::Gbench);
        }
    }
    if matches!(m.get("Benchmarks"), Some(Value::Array(_))) {
        return Some(Format::Bdn);
    }
    if let Some(Value::Array(r)) = m.get("results") {
        let first = r.first().and_then(Value::as_object);
        if first.is_some_and(|f| f.contains_key("command")) {
            return Some(Format::Hyperfine);
        }
        if m.contains_key("project") || first.is_some_and(|f| f.contains_key("measure")) {
            return Some(Format::Native);
        }
    }
    None
}

/// k6 summaries (`--summary-export` or `handleSummary`), criterion directories sent as
/// one object, and Bencher Metric Format.
fn k6_criterion_or_bmf(m: &Map<String, Value>) -> Option<Format> {
    if m.get("results")
        .and_then(|r| r.get("metrics"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .is_some_and(|f| f.get("contains").is_some() && f.get("values").is_some())
    {
        return Some(Format::K6);
    }
    if matches!(m.get("metrics"), Some(Value::Object(_)))
        && ["root_group", "state", "options"]
            .iter()
            .any(|k| m.contains_key(*k))
    {
        return Some(Format::K6);
    }
    if m.keys()
        .any(|k| k.ends_with("/new/sample.json") || k.ends_with("/new/benchmark.json"))
    {
        return Some(Format::CriterionJson);
    }
    if is_bmf(m) {
        return Some(Format::Bmf);
    }
    None
}

/// `{ "bench": { "measure": { "value": 1.0, … } } }`, every level non-empty.
fn is_bmf(m: &Map<String, Value>) -> bool {
    !m.is_empty()
        && m.values().all(|measures| match measures {
            Value::Object(ms) => {
                !ms.is_empty()
                    && ms.values().all(|x| {
                        x.as_object()
                            .is_some_and(|o| o.get("value").is_some_and(Value::is_number))
                    })
            }
            _ => false,
        })
}

fn text_kind(t: &str) -> Option<Format> {
    if t.lines().next().is_some_and(crate::locust::looks_like) {
        return Some(Format::Locust);
    }
    if let Some(f) = first_line_kind(t) {
        return Some(f);
    }
    if crate::gbench_console::looks_like(t) {
        return Some(Format::GbenchConsole);
    }
    if let Some(f) = crate::callgrind_text::detect(t) {
        return Some(f);
    }
    if crate::ruby::looks_like(t) {
        return Some(Format::Ruby);
    }
    if t.lines()
        .any(|l| crate::benchmarkjs::cycle_line(l).is_some())
    {
        return Some(Format::Benchmarkjs);
    }
    if crate::dart::looks_like(t) {
        return Some(Format::Dart);
    }
    // Only tests ran (`running 0 tests` … `test result:`): a libtest output without
    // benchmarks, refused by the libtest parser with a message that says so. Checked
    // last because every `cargo bench` output (Criterion, iai) starts with these lines.
    let mut lines = t.lines().map(str::trim);
    if lines.any(|l| l.starts_with("running ") && l.ends_with(" tests") || l.ends_with(" test"))
        && t.lines()
            .any(|l| l.trim_start().starts_with("test result: "))
    {
        return Some(Format::Libtest);
    }
    None
}

/// The formats told apart by one distinctive line.
fn first_line_kind(t: &str) -> Option<Format> {
    for line in t.lines() {
        let trimmed = line.trim();
        let mut fields = trimmed.split_whitespace();
        if let (Some(name), Some(iters), Some(value)) =
            (fields.next(), fields.next(), fields.next())
        {
            if name.starts_with("Benchmark")
                && iters.parse::<u64>().is_ok()
                && value.parse::<f64>().is_ok()
            {
                return Some(Format::Go);
            }
        }
        if trimmed.starts_with("test ") && trimmed.contains(" ... bench:") {
            return Some(Format::Libtest);
        }
        if let Some(at) = line.find("time:") {
            if line
                .get(at + 5..)
                .is_some_and(|r| r.trim_start().starts_with('['))
            {
                return Some(Format::Criterion);
            }
        }
        if trimmed.starts_with("benchmark name") && trimmed.contains("samples") {
            return Some(Format::Catch2);
        }
    }
    None
}

fn by_name(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".xml") {
        Some(Format::Catch2Xml)
    } else if lower.ends_with(".jsonl") {
        Some(Format::GoJson)
    } else if lower.ends_with(".bench") {
        Some(Format::Go)
    } else {
        None
    }
}
