//! The supported formats and their `--format` names.

use std::fmt;
use std::str::FromStr;

/// A harness output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `go test -bench` text (benchfmt).
    Go,
    /// `go test -bench -json` (test2json events wrapping the text).
    GoJson,
    /// `cargo bench` with libtest's `#[bench]`, or Criterion's `--output-format bencher`.
    Libtest,
    /// Criterion console output.
    Criterion,
    /// Criterion's `target/criterion/**/new/*.json` files.
    CriterionJson,
    /// Google Benchmark `--benchmark_format=json`.
    Gbench,
    /// pytest-benchmark `--benchmark-json`.
    Pytest,
    /// hyperfine `--export-json`.
    Hyperfine,
    /// JMH `-rf json`.
    Jmh,
    /// Catch2 `--reporter xml` (v2 and v3).
    Catch2Xml,
    /// Catch2 console reporter.
    Catch2,
    /// k6 summary JSON (`handleSummary` data or `--summary-export`).
    K6,
    /// BenchmarkDotNet JSON exporter (`--exporters json`).
    Bdn,
    /// Bencher Metric Format JSON.
    Bmf,
    /// perfwatch's own run JSON (a run submission, or just its results).
    Native,
    /// Google Benchmark console output (the default reporter).
    GbenchConsole,
    /// vitest bench JSON (`vitest bench --outputJson`).
    Vitest,
    /// benchmark.js console output (`String(event.target)` per cycle).
    Benchmarkjs,
    /// airspeed velocity (asv) results JSON, optionally with `benchmarks.json`.
    Asv,
    /// Ruby `benchmark-ips` and `Benchmark.bm`/`bmbm` console output.
    Ruby,
    /// iai (0.1) console output: instruction counts and cache accesses.
    Iai,
    /// iai-callgrind / gungraun console output.
    Gungraun,
    /// DHAT JSON profile (valgrind `--tool=dhat`, the dhat crate).
    Dhat,
    /// Locust `--csv` statistics (`*_stats.csv`).
    Locust,
    /// oha `--output-format json`.
    Oha,
    /// vegeta `report -type=json`.
    Vegeta,
    /// Goose `--report-file *.json`.
    Goose,
    /// Dart `benchmark_harness` output (`Name(RunTime): 1.0 us.`).
    Dart,
    /// Julia BenchmarkTools JSON (`BenchmarkTools.save`).
    Julia,
}

impl Format {
    /// Every format, in the order detection and documentation list them.
    pub const ALL: [Format; 29] = [
        Format::Go,
        Format::GoJson,
        Format::Libtest,
        Format::Criterion,
        Format::CriterionJson,
        Format::Gbench,
        Format::Pytest,
        Format::Hyperfine,
        Format::Jmh,
        Format::Catch2Xml,
        Format::Catch2,
        Format::K6,
        Format::Bdn,
        Format::Bmf,
        Format::Native,
        Format::GbenchConsole,
        Format::Vitest,
        Format::Benchmarkjs,
        Format::Asv,
        Format::Ruby,
        Format::Iai,
        Format::Gungraun,
        Format::Dhat,
        Format::Locust,
        Format::Oha,
        Format::Vegeta,
        Format::Goose,
        Format::Dart,
        Format::Julia,
    ];

    /// The name used by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Go => "go",
            Format::GoJson => "go-json",
            Format::Libtest => "libtest",
            Format::Criterion => "criterion",
            Format::CriterionJson => "criterion-json",
            Format::Gbench => "gbench",
            Format::Pytest => "pytest",
            Format::Hyperfine => "hyperfine",
            Format::Jmh => "jmh",
            Format::Catch2Xml => "catch2-xml",
            Format::Catch2 => "catch2",
            Format::K6 => "k6",
            Format::Bdn => "bdn",
            Format::Bmf => "bmf",
            Format::Native => "native",
            Format::GbenchConsole => "gbench-console",
            Format::Vitest => "vitest",
            Format::Benchmarkjs => "benchmarkjs",
            Format::Asv => "asv",
            Format::Ruby => "ruby",
            Format::Iai => "iai",
            Format::Gungraun => "gungraun",
            Format::Dhat => "dhat",
            Format::Locust => "locust",
            Format::Oha => "oha",
            Format::Vegeta => "vegeta",
            Format::Goose => "goose",
            Format::Dart => "dart",
            Format::Julia => "julia",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--format` name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format '{0}'; expected one of: {names}", names = format_names())]
pub struct UnknownFormat(pub String);

fn format_names() -> String {
    Format::ALL.map(Format::name).join(", ")
}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        // A few aliases people type without looking.
        let wanted = match wanted.as_str() {
            "gotest" | "go-text" => "go",
            "test2json" | "gojson" => "go-json",
            "cargo-bench" | "rust" | "bencher" => "libtest",
            "google-benchmark" | "googlebenchmark" | "gbench-json" => "gbench",
            "pytest-benchmark" => "pytest",
            "benchmarkdotnet" => "bdn",
            "catch2-console" => "catch2",
            "gbench-text" | "google-benchmark-console" => "gbench-console",
            "vitest-bench" => "vitest",
            "benchmark.js" | "benchmark-js" => "benchmarkjs",
            "airspeed-velocity" => "asv",
            "benchmark-ips" | "ruby-benchmark" => "ruby",
            "iai-callgrind" => "gungraun",
            "dhat-json" => "dhat",
            "locust-csv" => "locust",
            "benchmark-harness" | "dart-benchmark-harness" => "dart",
            "benchmarktools" | "julia-benchmarktools" => "julia",
            other => other,
        };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}
