//! perfwatch-parsers: turns benchmark-harness output into perfwatch results. Pure: no IO,
//! no async, compiles to wasm32, never panics on untrusted input.
//!
//! Each harness format has its own module; all produce one [`Parsed`] (results, metadata
//! and an optional testbed hint) that the CLI wraps into a [`RunSubmission`] with the
//! project, branch and commit it knows. Units are kept as the harness printed them (in a
//! spelling `perfwatch_core::units::normalize_unit` understands); the core converts to
//! canonical units at validation.
//!
//! ```
//! use perfwatch_parsers::{detect_format, parse, Format};
//! let text = "BenchmarkFib/n=10-8   1000   275.7 ns/op\n";
//! let format = detect_format(text).unwrap();
//! assert_eq!(format, Format::Go);
//! let parsed = parse(format, text).unwrap();
//! assert_eq!(parsed.results[0].benchmark, "BenchmarkFib");
//! assert_eq!(parsed.results[0].params["n"], "10");
//! ```

// Parsers read untrusted input: no panicking shortcuts outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::string_slice
    )
)]

mod asv;
mod bdn;
mod benchmarkjs;
mod bmf;
mod callgrind_text;
mod catch2;
mod catch2_xml;
mod common;
mod criterion;
mod criterion_json;
mod dart;
mod detect;
mod dhat;
mod error;
mod format;
mod gbench;
mod gbench_console;
mod go;
mod goose;
mod hyperfine;
mod jmh;
mod julia;
mod k6;
mod libtest;
mod load_common;
mod locust;
mod native;
mod oha;
mod pytest;
mod ruby;
mod vegeta;
mod vitest;

use perfwatch_core::{ResultInput, RunSubmission};

pub use common::csv_line;
pub use detect::{detect_format, detect_format_with_hint};
pub use error::{Location, ParseError};
pub use format::{Format, UnknownFormat};

/// What a parser read from one harness output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// One entry per series (benchmark × measure × params), samples merged, in the order
    /// the series first appeared.
    pub results: Vec<ResultInput>,
    /// Run-level facts the harness printed (configuration lines, machine, versions).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// A stable description of the machine class (OS, architecture, CPU model) when the
    /// harness prints one; the CLI may use it when no testbed is given.
    pub testbed_hint: Option<String>,
}

impl Parsed {
    /// Wraps the results into a run of `project`; the caller fills in branch, commit, …
    /// The testbed is the hint, if any.
    pub fn into_submission(self, project: impl Into<String>) -> RunSubmission {
        RunSubmission {
            project: project.into(),
            testbed: self.testbed_hint,
            metadata: self.metadata,
            results: self.results,
            ..RunSubmission::default()
        }
    }
}

/// Parses `input` as `format`.
///
/// `Format::CriterionJson` reads a directory: given one string it accepts a JSON object
/// mapping each file's relative path to its content (see [`parse_files`] for the
/// IO-free form the CLI uses).
pub fn parse(format: Format, input: &str) -> Result<Parsed, ParseError> {
    match format {
        Format::Go => go::parse_text(input),
        Format::GoJson => go::parse_json(input),
        Format::Libtest => libtest::parse(input),
        Format::Criterion => criterion::parse(input),
        Format::CriterionJson => criterion_json::parse_single(input),
        Format::Gbench => gbench::parse(input),
        Format::Pytest => pytest::parse(input),
        Format::Hyperfine => hyperfine::parse(input),
        Format::Jmh => jmh::parse(input),
        Format::Catch2Xml => catch2_xml::parse(input),
        Format::Catch2 => catch2::parse(input),
        Format::K6 => k6::parse(input),
        Format::Bdn => bdn::parse(input),
        Format::Bmf => bmf::parse(input),
        Format::Native => native::parse(input),
        Format::GbenchConsole => gbench_console::parse(input),
        Format::Vitest => vitest::parse(input),
        Format::Benchmarkjs => benchmarkjs::parse(input),
        Format::Asv => asv::parse(input),
        Format::Ruby => ruby::parse(input),
        Format::Iai | Format::Gungraun => callgrind_text::parse(format, input),
        Format::Dhat => dhat::parse(input),
        Format::Locust => locust::parse(input),
        Format::Oha => oha::parse(input),
        Format::Vegeta => vegeta::parse(input),
        Format::Goose => goose::parse(input),
        Format::Dart => dart::parse(input),
        Format::Julia => julia::parse(input),
    }
}

/// Parses several files of one format as one run: `(relative path, content)` pairs.
///
/// For `Format::CriterionJson` the pairs are the files under `target/criterion`
/// (paths relative to it or to any parent; only `…/new/{benchmark,estimates,sample}.json`
/// are read). For `Format::Asv` a `benchmarks.json` among them names the parameters and
/// units of the results files. For every other format each file is parsed on its own and the results
/// merged: a series seen in two files gets the samples of both. Errors name the file.
pub fn parse_files(format: Format, files: &[(&str, &str)]) -> Result<Parsed, ParseError> {
    if format == Format::CriterionJson {
        return criterion_json::parse_dir(files);
    }
    if format == Format::Asv {
        return asv::parse_dir(files);
    }
    let mut merged = common::Series::default();
    let mut out = Parsed::default();
    for (path, content) in files {
        let parsed = parse(format, content).map_err(|e| e.in_file(path))?;
        for r in parsed.results {
            merged.merge(r).map_err(|exp| {
                ParseError::new(
                    format,
                    Location::File((*path).to_string(), Box::new(Location::Input)),
                    exp,
                )
            })?;
        }
        for (k, v) in parsed.metadata {
            common::add_metadata(&mut out.metadata, &k, v);
        }
        if out.testbed_hint.is_none() {
            out.testbed_hint = parsed.testbed_hint;
        }
    }
    out.results = merged.finish(format)?;
    Ok(out)
}
