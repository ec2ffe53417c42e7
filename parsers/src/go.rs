//! Go benchmark output: `go test -bench` text (the benchfmt format) and the same
//! wrapped in `go test -json` (test2json events).
//!
//! Naming: `BenchmarkFib/n=10-8` becomes benchmark `BenchmarkFib` with params `n=10`
//! and `procs=8` (the GOMAXPROCS suffix); segments without `=` stay in the name. The
//! `pkg:` configuration line in effect becomes the `pkg` param, so equal names in two
//! packages stay two series. Every `key: value` configuration line is kept as metadata;
//! goos/goarch/cpu form the testbed hint.

use serde_json::{Map, Value};

use crate::common::{add_metadata, at_line, finite, split_params, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

/// Reads the text format.
pub(crate) fn parse_text(input: &str) -> Result<Parsed, ParseError> {
    let mut st = State::new(Format::Go);
    st.start_stream(None);
    for (i, line) in input.lines().enumerate() {
        st.line(i + 1, line)?;
    }
    st.finish()
}

/// Reads a test2json stream: the `Output` of `output` events, per package, is
/// concatenated and split into lines again, because test2json may cut one benchmark
/// line into several events. Errors name the line of the event where the text line began.
pub(crate) fn parse_json(input: &str) -> Result<Parsed, ParseError> {
    let f = Format::GoJson;
    let mut streams: Vec<Stream> = Vec::new();
    for (i, raw) in input.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim().trim_start_matches('\u{feff}');
        // `go test -json` mixes in build output and `# pkg` lines that are not events.
        if !t.starts_with('{') {
            continue;
        }
        let ev: Value = serde_json::from_str(t)
            .map_err(|e| ParseError::line(f, n, format!("a test2json event object ({e})")))?;
        let ev = ev
            .as_object()
            .ok_or_else(|| ParseError::line(f, n, "a test2json event object"))?;
        if ev.get("Action").and_then(Value::as_str) != Some("output") {
            continue;
        }
        let Some(out) = ev.get("Output").and_then(Value::as_str) else {
            return Err(ParseError::line(
                f,
                n,
                "an \"Output\" string in an output event",
            ));
        };
        let pkg = ev.get("Package").and_then(Value::as_str).unwrap_or("");
        let pos = match streams.iter().position(|s| s.pkg == pkg) {
            Some(p) => p,
            None => {
                streams.push(Stream::new(pkg));
                streams.len() - 1
            }
        };
        if let Some(s) = streams.get_mut(pos) {
            s.push(n, out);
        }
    }
    let mut st = State::new(f);
    for s in streams {
        st.start_stream((!s.pkg.is_empty()).then_some(s.pkg.as_str()));
        for (n, line) in &s.lines {
            st.line(*n, line)?;
        }
        if !s.partial.is_empty() {
            st.line(s.partial_start, &s.partial)?;
        }
    }
    st.finish()
}

/// The output of one package, cut into lines, each with the event line it began on.
struct Stream {
    pkg: String,
    lines: Vec<(usize, String)>,
    partial: String,
    partial_start: usize,
}

impl Stream {
    fn new(pkg: &str) -> Self {
        Self {
            pkg: pkg.to_string(),
            lines: Vec::new(),
            partial: String::new(),
            partial_start: 0,
        }
    }

    fn push(&mut self, event_line: usize, out: &str) {
        for piece in out.split_inclusive('\n') {
            if self.partial.is_empty() {
                self.partial_start = event_line;
            }
            match piece.strip_suffix('\n') {
                Some(body) => {
                    self.partial.push_str(body);
                    let line = std::mem::take(&mut self.partial);
                    self.lines.push((self.partial_start, line));
                }
                None => self.partial.push_str(piece),
            }
        }
    }
}

struct State {
    format: Format,
    series: Series,
    metadata: Map<String, Value>,
    /// The package whose benchmarks follow (from `pkg:` or the test2json Package).
    pkg: Option<String>,
    goos: Option<String>,
    goarch: Option<String>,
    cpu: Option<String>,
}

impl State {
    fn new(format: Format) -> Self {
        Self {
            format,
            series: Series::default(),
            metadata: Map::new(),
            pkg: None,
            goos: None,
            goarch: None,
            cpu: None,
        }
    }

    fn start_stream(&mut self, pkg: Option<&str>) {
        self.pkg = pkg.map(str::to_string);
    }

    fn line(&mut self, n: usize, line: &str) -> Result<(), ParseError> {
        if let Some((key, value)) = config_line(line) {
            self.config(key, value);
            return Ok(());
        }
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next() else {
            return Ok(());
        };
        if !is_benchmark_name(name) {
            return Ok(());
        }
        // A name alone is the progress line `go test -v`/`-json` prints before running;
        // a name followed by anything but an iteration count is a failure or log output
        // (`BenchmarkX-8 --- FAIL: …`), not a result.
        let Some(iters) = fields.next().and_then(|s| s.parse::<u64>().ok()) else {
            return Ok(());
        };
        let rest: Vec<&str> = fields.collect();
        if rest.is_empty() || !rest.len().is_multiple_of(2) {
            return Err(ParseError::line(
                self.format,
                n,
                "\"<value> <unit>\" pairs after the iteration count",
            ));
        }
        let (benchmark, params) = self.name_and_params(name);
        for pair in rest.chunks(2) {
            let [value, unit] = pair else { continue };
            let Some(v) = finite(value) else {
                return Err(ParseError::line(
                    self.format,
                    n,
                    format!("a finite number before unit \"{unit}\" (got \"{value}\")"),
                ));
            };
            let (measure, direction) = measure_of(unit);
            self.series
                .add(Obs {
                    benchmark: &benchmark,
                    params: &params,
                    measure,
                    unit,
                    direction,
                    samples: &[v],
                    iterations: Some(iters),
                })
                .map_err(at_line(self.format, n))?;
        }
        Ok(())
    }

    /// `BenchmarkFib/n=10-8` → (`BenchmarkFib`, {n: 10, procs: 8, pkg: …}).
    fn name_and_params(&self, full: &str) -> (String, Params) {
        let (base, procs) = match full.rsplit_once('-') {
            Some((b, p))
                if !b.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) =>
            {
                (b, Some(p))
            }
            _ => (full, None),
        };
        let (name, mut params) = split_params(base, '=');
        if let Some(p) = procs {
            params
                .entry("procs".to_string())
                .or_insert_with(|| p.to_string());
        }
        if let Some(pkg) = &self.pkg {
            params
                .entry("pkg".to_string())
                .or_insert_with(|| crate::common::clean_param(pkg));
        }
        (name, params)
    }

    fn config(&mut self, key: &str, value: &str) {
        add_metadata(&mut self.metadata, key, Value::from(value));
        let slot = match key {
            "pkg" => {
                self.pkg = Some(value.to_string());
                return;
            }
            "goos" => &mut self.goos,
            "goarch" => &mut self.goarch,
            "cpu" => &mut self.cpu,
            _ => return,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value.to_string());
        }
    }

    fn finish(self) -> Result<Parsed, ParseError> {
        let os_arch = match (&self.goos, &self.goarch) {
            (Some(o), Some(a)) => Some(format!("{o}-{a}")),
            (Some(x), None) | (None, Some(x)) => Some(x.clone()),
            (None, None) => None,
        };
        let testbed_hint = match (os_arch, &self.cpu) {
            (Some(oa), Some(cpu)) => Some(format!("{oa} {cpu}")),
            (Some(oa), None) => Some(oa),
            (None, Some(cpu)) => Some(cpu.clone()),
            (None, None) => None,
        };
        Ok(Parsed {
            results: self.series.finish(self.format)?,
            metadata: self.metadata,
            testbed_hint,
        })
    }
}

/// Go's rule for benchmark functions: `Benchmark` then nothing or a non-lowercase rune.
fn is_benchmark_name(name: &str) -> bool {
    match name.strip_prefix("Benchmark") {
        Some(rest) => !rest.chars().next().is_some_and(|c| c.is_lowercase()),
        None => false,
    }
}

/// benchfmt configuration line: a key that starts with a lowercase letter and has no
/// spaces or uppercase letters, a colon, then a space or the end of the line.
fn config_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let first = key.chars().next()?;
    if !first.is_lowercase()
        || key.chars().any(|c| c.is_whitespace() || c.is_uppercase())
        || !(value.is_empty() || value.starts_with([' ', '\t']))
    {
        return None;
    }
    Some((key, value.trim()))
}

/// The measure a Go unit reports. Custom `b.ReportMetric` units are their own measure,
/// named as printed (so they cannot collide with the built-in ones).
fn measure_of(unit: &str) -> (&str, Option<Direction>) {
    match unit {
        "ns/op" => ("time", Some(Direction::Lower)),
        "B/op" => ("alloc_bytes", Some(Direction::Lower)),
        "allocs/op" => ("allocs", Some(Direction::Lower)),
        "MB/s" => ("throughput", Some(Direction::Higher)),
        other => (other, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_benchmark_line_names_the_line() {
        let e = parse_text("goos: linux\nBenchmarkX-8 100 12 ns/op 5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "go: line 2: expected \"<value> <unit>\" pairs after the iteration count"
        );
        let e = parse_text("BenchmarkX 100 NaN ns/op\n").unwrap_err();
        assert!(
            e.to_string().contains("line 1: expected a finite number"),
            "{e}"
        );
    }

    #[test]
    fn unrelated_lines_are_skipped_and_empty_input_is_an_error() {
        let e =
            parse_text("PASS\nok  \tfoo\t0.1s\nBenchmarkX\nBenchmarkY-2 \t--- FAIL: BenchmarkY\n")
                .unwrap_err();
        assert_eq!(e.location, crate::Location::Input);
        // Lowercase after the prefix is not a benchmark (Go would not run it either).
        assert!(parse_text("Benchmarking 1 2 ns/op\n").is_err());
    }

    #[test]
    fn package_becomes_a_param_and_procs_suffix_is_split() {
        let p = parse_text("pkg: a\nBenchmarkX-4 10 1 ns/op\npkg: b\nBenchmarkX-4 10 2 ns/op\n")
            .unwrap();
        assert_eq!(p.results.len(), 2);
        assert_eq!(p.results[1].params["pkg"], "b");
        assert_eq!(p.results[1].params["procs"], "4");
        assert_eq!(p.metadata["pkg"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn test2json_lines_split_across_events_are_reassembled() {
        let input = concat!(
            "{\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"BenchmarkX-2   \\t\"}\n",
            "not json\n",
            "{\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"  100\\t 12.5 ns/op\\n\"}\n",
            "{\"Action\":\"pass\",\"Package\":\"p\"}\n"
        );
        let p = parse_json(input).unwrap();
        assert_eq!(p.results[0].samples, vec![12.5]);
        assert_eq!(p.results[0].params["pkg"], "p");
    }
}
