//! Catch2 XML reporter output (`./tests -r xml`), both layouts: v2 (`<Catch>` with
//! `<Group>`) and v3 (`<Catch2TestRun>`).
//!
//! Each `<BenchmarkResults>` is one benchmark named `<test case>[/<section>…]/<name>`,
//! so equal benchmark names in two test cases stay apart (the console parser builds the
//! same names). The reporter writes no raw samples: the `<mean value>` (nanoseconds) is
//! the one sample, `iterations` the iteration count. Standard deviation, bounds and
//! outlier counts are ignored.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use quick_xml::XmlVersion;
use serde_json::{Map, Value};

use crate::common::{add_metadata, at_line, finite, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Catch2Xml;

struct Bench {
    name: String,
    iterations: Option<u64>,
    mean: Option<f64>,
    line: usize,
}

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().trim_text(true);
    let mut series = Series::default();
    let mut metadata = Map::new();
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<Bench> = None;
    let no_params = Params::new();
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = line_of(input, pos);
        let event = reader.read_event().map_err(|e| {
            ParseError::line(F, line_of(input, pos), format!("well-formed XML ({e})"))
        })?;
        match event {
            Event::Start(e) => match e.name().as_ref() {
                b"TestCase" | b"Section" => path.push(attr(&e, "name", line)?.unwrap_or_default()),
                b"BenchmarkResults" => current = Some(bench_start(&e, line)?),
                b"mean" => set_mean(&e, &mut current, line)?,
                b"Catch" | b"Catch2TestRun" => root_metadata(&e, &mut metadata, line)?,
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                b"mean" => set_mean(&e, &mut current, line)?,
                b"BenchmarkResults" => {
                    return Err(ParseError::line(
                        F,
                        line,
                        "a <mean value=\"…\"/> inside <BenchmarkResults>",
                    ))
                }
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                b"TestCase" | b"Section" => {
                    path.pop();
                }
                b"BenchmarkResults" => {
                    let Some(b) = current.take() else { continue };
                    let Some(mean) = b.mean else {
                        return Err(ParseError::line(
                            F,
                            b.line,
                            "a <mean value=\"…\"/> inside <BenchmarkResults>",
                        ));
                    };
                    let mut full = path.join("/");
                    if !full.is_empty() {
                        full.push('/');
                    }
                    full.push_str(&b.name);
                    series
                        .add(Obs {
                            benchmark: &full,
                            params: &no_params,
                            measure: "time",
                            unit: "ns",
                            direction: Some(Direction::Lower),
                            samples: &[mean],
                            iterations: b.iterations,
                        })
                        .map_err(at_line(F, b.line))?;
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        metadata,
        testbed_hint: None,
    })
}

fn line_of(input: &str, pos: usize) -> usize {
    let upto = input.get(..pos.min(input.len())).unwrap_or(input);
    upto.bytes().filter(|b| *b == b'\n').count() + 1
}

fn attr(e: &BytesStart<'_>, name: &str, line: usize) -> Result<Option<String>, ParseError> {
    let a = e
        .try_get_attribute(name)
        .map_err(|err| ParseError::line(F, line, format!("well-formed attributes ({err})")))?;
    match a {
        None => Ok(None),
        Some(a) => a
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|v| Some(v.into_owned()))
            .map_err(|err| {
                ParseError::line(F, line, format!("a well-formed {name} attribute ({err})"))
            }),
    }
}

fn bench_start(e: &BytesStart<'_>, line: usize) -> Result<Bench, ParseError> {
    let name = attr(e, "name", line)?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ParseError::line(F, line, "a name attribute on <BenchmarkResults>"))?;
    let iterations = match attr(e, "iterations", line)? {
        Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
            ParseError::line(F, line, "a whole number in the iterations attribute")
        })?),
        None => None,
    };
    Ok(Bench {
        name,
        iterations,
        mean: None,
        line,
    })
}

fn set_mean(
    e: &BytesStart<'_>,
    current: &mut Option<Bench>,
    line: usize,
) -> Result<(), ParseError> {
    let Some(b) = current.as_mut() else {
        return Ok(());
    };
    let v = attr(e, "value", line)?
        .and_then(|s| finite(s.trim()))
        .ok_or_else(|| ParseError::line(F, line, "a finite number in <mean value=\"…\">"))?;
    b.mean = Some(v);
    Ok(())
}

fn root_metadata(
    e: &BytesStart<'_>,
    meta: &mut Map<String, Value>,
    line: usize,
) -> Result<(), ParseError> {
    for key in ["name", "rng-seed", "catch2-version"] {
        if let Some(v) = attr(e, key, line)? {
            add_metadata(meta, key, Value::from(v));
        }
    }
    Ok(())
}
