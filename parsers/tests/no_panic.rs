//! Property tests: no input makes a parser panic. Arbitrary text, JSON-shaped noise
//! built from each format's own keys, and randomly mutated fixtures go through every
//! parser and the detector. Failures are returned as errors, never as panics.
//!
//! Case counts: the per-parser properties use proptest's default (256, or
//! `PROPTEST_CASES`); the mutated-fixture property runs `PERFWATCH_FUZZ_CASES`
//! (default 20 000). Each property prints how many inputs it tried.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{OWN, SHARED};
use perfwatch_parsers::{detect_format, parse, parse_files, Format};
use proptest::prelude::*;

/// (format, fixture path) for every fixture the crate has.
const FIXTURES: &[(Format, &str, bool)] = &[
    (
        Format::Go,
        "go/generated_go1.19_bench_benchmem_count3.txt",
        true,
    ),
    (
        Format::GoJson,
        "go/generated_go1.19_bench_test2json.jsonl",
        true,
    ),
    (Format::Go, "go/suffixarray.bench", true),
    (Format::Go, "go/benchfmt_files_a.txt", true),
    (Format::Libtest, "rust_libtest/gab_cargo_output.txt", true),
    (
        Format::Libtest,
        "rust_criterion_text/gab_criterion_output.txt",
        true,
    ),
    (
        Format::Criterion,
        "rust_criterion_json/criterion-0.5.1/cargo_bench_run1.stdout",
        true,
    ),
    (
        Format::Criterion,
        "rust_criterion_json/criterion-0.5.1/cargo_bench_run2.stdout",
        true,
    ),
    (
        Format::Criterion,
        "rust_criterion_json/criterion-0.5.1/cargo_bench_run2.stderr",
        true,
    ),
    (
        Format::Gbench,
        "google_benchmark/generated_gbench_1.7.1_out.json",
        true,
    ),
    (
        Format::Gbench,
        "google_benchmark/generated_gbench_1.7.1_console.txt",
        true,
    ),
    (
        Format::Pytest,
        "pytest_benchmark/generated_pytest-benchmark_5.3.1.json",
        true,
    ),
    (
        Format::Hyperfine,
        "hyperfine/generated_hyperfine_1.15.0_param_scan.json",
        true,
    ),
    (
        Format::Hyperfine,
        "hyperfine/generated_hyperfine_1.15.0_two_commands.json",
        true,
    ),
    (Format::Jmh, "jmh/gab_jmh_output.json", true),
    (
        Format::Catch2Xml,
        "catch2/generated_catch2_2.13.10_xml_reporter.xml",
        true,
    ),
    (
        Format::Catch2Xml,
        "catch2/generated_catch2_3.7.1_xml_reporter.xml",
        true,
    ),
    (
        Format::Catch2,
        "catch2/generated_catch2_3.7.1_console.txt",
        true,
    ),
    (Format::K6, "k6/k6_handleSummary_data.json", true),
    (
        Format::Bdn,
        "benchmarkdotnet/gab_benchmarkdotnet.json",
        true,
    ),
    (Format::Libtest, "libtest_decimals_throughput.txt", false),
    (Format::Bmf, "bmf.json", false),
    (Format::Native, "native_run.json", false),
    (Format::Native, "native_results.json", false),
    (Format::K6, "k6_http_summary.json", false),
    (Format::Jmh, "jmh_avgt_params_gc.json", false),
    (Format::Bdn, "bdn_measurements_memory.json", false),
    (
        Format::GbenchConsole,
        "google_benchmark/generated_gbench_1.7.1_console.txt",
        true,
    ),
    (
        Format::Catch2,
        "catch2/catch2-2.13.10-console-wrapped.txt",
        false,
    ),
    (
        Format::Libtest,
        "libtest/cargo-1.95-bench-no-benchmarks.txt",
        false,
    ),
    (Format::Vitest, "vitest/vitest-4.1.12-bench.json", false),
    (
        Format::Benchmarkjs,
        "benchmarkjs/benchmarkjs-2.1.4-console.txt",
        false,
    ),
    (Format::Asv, "asv/asv-0.6.6-results.json", false),
    (Format::Asv, "asv/asv-0.6.6-benchmarks.json", false),
    (Format::Ruby, "ruby/crockford32_benchmark-ips.txt", false),
    (
        Format::Ruby,
        "ruby/micro-service_benchmark-ips_wrapped.txt",
        false,
    ),
    (Format::Ruby, "ruby/pcgrandom_benchmark_bmbm.txt", false),
    (
        Format::Iai,
        "iai/iai-0.1_cargo_bench_with_changes.txt",
        false,
    ),
    (
        Format::Gungraun,
        "gungraun/iai-callgrind_readme_library_bench.txt",
        false,
    ),
    (
        Format::Gungraun,
        "gungraun/gungraun_guide_callgrind_perf.txt",
        false,
    ),
    (Format::Dhat, "dhat/valgrind-3.19.0-dhat.json", false),
    (Format::Locust, "locust/locust-2.47.0_stats.csv", false),
    (Format::Oha, "oha/crush-test_oha_c20_z10s.json", false),
    (Format::Vegeta, "vegeta/seldon_benchmark_report.json", false),
    (Format::Vegeta, "vegeta/errors_status0_report.json", false),
    (
        Format::Goose,
        "goose/goose_baseline_test_report.json",
        false,
    ),
    (Format::K6, "k6/k6_machine_readable_summary.json", false),
    (
        Format::Dart,
        "dart/bencher_benchmark_harness_two.txt",
        false,
    ),
    (Format::Bdn, "bencher/bdn_null_namespace.json", false),
    (
        Format::Benchmarkjs,
        "bencher/benchmarkjs_issue_506.txt",
        false,
    ),
    (
        Format::Gungraun,
        "bencher/gungraun_name_on_multiple_lines.txt",
        false,
    ),
    (Format::Gungraun, "bencher/gungraun_with_dhat.txt", false),
    (Format::Libtest, "bencher/libtest_failed.txt", false),
    (Format::Ruby, "bencher/ruby_benchmark_five.txt", false),
    (Format::Julia, "julia/gab_julia_output.json", false),
    (Format::Libtest, "libtest/gab_cargo_output_units.txt", false),
];

fn load(path: &str, shared: bool) -> String {
    let root = if shared { SHARED } else { OWN };
    std::fs::read_to_string(format!("{root}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixtures() -> &'static Vec<(Format, String)> {
    static CELL: std::sync::OnceLock<Vec<(Format, String)>> = std::sync::OnceLock::new();
    CELL.get_or_init(|| FIXTURES.iter().map(|(f, p, s)| (*f, load(p, *s))).collect())
}

/// Runs the input through the detector, the given parser and the detected one.
fn exercise(format: Format, input: &str) {
    let detected = detect_format(input);
    let _ = parse(format, input);
    if let Some(d) = detected {
        if d != format {
            let _ = parse(d, input);
        }
    }
}

/// Tokens that steer random text into the parsers' interesting branches.
const TOKENS: &[&str] = &[
    "Benchmark",
    "BenchmarkX/n=1-8",
    "Benchmark/a=b=c",
    "goos: linux",
    "pkg: x",
    "cpu:",
    " ",
    "\t",
    "\n",
    "\r\n",
    "1",
    "0",
    "-1",
    "1e309",
    "NaN",
    "inf",
    "12.5",
    "1,234",
    "ns/op",
    "B/op",
    "allocs/op",
    "MB/s",
    "x/op",
    "test ",
    " ... ",
    "bench:",
    "ns/iter",
    "(+/- 5)",
    " = 800 MB/s",
    "time:",
    "thrpt:",
    "change:",
    "[",
    "]",
    "ps",
    "µs",
    "us",
    "ms",
    "s",
    "Gelem/s",
    "KiB/s",
    "%",
    "benchmark name",
    "samples",
    "----------------------",
    "======================",
    "  ",
    "é",
    "\u{feff}",
    "{",
    "}",
    "\"",
    ":",
    ",",
    "|",
    "N/A",
    "(No change)",
    "  Instructions:",
    "  L1 Hits:",
    "  Estimated Cycles:",
    "  ======= CALLGRIND =====",
    "task-clock/u [us]:",
    "Calculating -------",
    "Warming up -------",
    "117.614k",
    " (± 3.5%) i/s -",
    " in 5.0s",
    "user     system      total        real",
    "( 1.2)",
    " x ",
    " ops/sec ±1.2% (",
    " runs sampled)",
    "Benchmark   Time   CPU   Iterations",
    "bytes_per_second=24.4G/s",
    "_mean",
    "Type,Name,Request Count,Failure Count,Average Response Time,Requests/s,50%,99.9%",
    "GET,/,",
    "-",
    "\"",
    "Template(RunTime): ",
    " us.",
    "\u{1b}[32m",
];

fn token_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|v| v.concat())
}

/// The keys the JSON parsers look for.
const JSON_KEYS: &[&str] = &[
    "benchmarks",
    "Benchmarks",
    "results",
    "metrics",
    "values",
    "type",
    "contains",
    "name",
    "run_name",
    "run_type",
    "aggregate_name",
    "real_time",
    "cpu_time",
    "time_unit",
    "iterations",
    "stats",
    "data",
    "mean",
    "params",
    "fullname",
    "command",
    "times",
    "parameters",
    "benchmark",
    "mode",
    "primaryMetric",
    "rawData",
    "rawDataHistogram",
    "scoreUnit",
    "score",
    "scorePercentiles",
    "secondaryMetrics",
    "Statistics",
    "Measurements",
    "IterationMode",
    "IterationStage",
    "Operations",
    "Nanoseconds",
    "Memory",
    "value",
    "project",
    "measure",
    "unit",
    "samples",
    "Action",
    "Output",
    "Package",
    "group_id",
    "iters",
    "thresholds",
    "context",
    "machine_info",
    "x/new/sample.json",
    "x/new/benchmark.json",
    "latency",
    "files",
    "groups",
    "fullName",
    "sampleCount",
    "hz",
    "median",
    "p99",
    "result_columns",
    "stats_number",
    "param_names",
    "dhatFileVersion",
    "pps",
    "tb",
    "tbk",
    "gb",
    "cmd",
    "latencies",
    "50th",
    "bytes_in",
    "status_codes",
    "requests",
    "success",
    "summary",
    "requestsPerSec",
    "average",
    "latencyPercentiles",
    "statusCodeDistribution",
    "raw_request_metrics",
    "raw_response_metrics",
    "raw_metrics",
    "number_of_requests",
    "number_of_failures",
    "response_time_average",
    "percentile_50",
    "matches",
    "total",
    "BenchmarkTools",
    "BenchmarkGroup",
    "Trial",
    "TrialEstimate",
    "gctimes",
    "evals",
];

/// JSON-shaped noise using the keys the JSON parsers look for.
fn json_noise() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "ns",
            "us",
            "iteration",
            "aggregate",
            "mean",
            "thrpt",
            "avgt",
            "sample",
            "Workload",
            "Result",
            "trend",
            "rate",
            "time",
            "BenchmarkX 1 2 ns/op\n",
            "output"
        ])
        .prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            prop::collection::vec((prop::sample::select(JSON_KEYS), inner), 0..6).prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    });
    value.prop_map(|v| v.to_string())
}

/// A byte-level mutation of a fixture, kept valid UTF-8 by lossy decoding.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, u8),
    DuplicateRange(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop_oneof![token_text(), ".{0,8}"])
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Mutation::DuplicateRange(a, n)),
    ]
}

fn apply(input: &str, muts: &[Mutation]) -> String {
    let mut b = input.as_bytes().to_vec();
    for m in muts {
        let len = b.len().max(1);
        match m {
            Mutation::Truncate(at) => b.truncate(at % len),
            Mutation::Delete(at, n) => {
                let s = at % len;
                let e = (s + n).min(b.len());
                if s < e {
                    b.drain(s..e);
                }
            }
            Mutation::Insert(at, text) => {
                let s = (at % len).min(b.len());
                b.splice(s..s, text.bytes());
            }
            Mutation::Replace(at, byte) => {
                if let Some(x) = b.get_mut(at % len) {
                    *x = *byte;
                }
            }
            Mutation::DuplicateRange(at, n) => {
                let s = at % len;
                let e = (s + n).min(b.len());
                if s < e {
                    let copy: Vec<u8> = b.get(s..e).map(<[u8]>::to_vec).unwrap_or_default();
                    b.splice(e..e, copy);
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Runs `test` on `cases` inputs from `strategy` and prints how many were tried.
fn property<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let tried = AtomicUsize::new(0);
    // No failure persistence: the integration-test layout has no lib.rs for proptest to
    // find; a failure prints its minimal input instead.
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest::test_runner::TestRunner::new(config)
        .run(&strategy, |v| {
            tried.fetch_add(1, Ordering::Relaxed);
            test(v);
            Ok(())
        })
        .expect("no input makes the parser panic");
    let tried = tried.load(Ordering::Relaxed);
    eprintln!("{name}: {tried} inputs tried without a panic");
    assert!(tried >= cases as usize);
}

/// proptest's default case count (256, or `PROPTEST_CASES`).
fn default_cases() -> u32 {
    ProptestConfig::default().cases
}

fn every_parser(s: &str) {
    for f in Format::ALL {
        let _ = parse(f, s);
    }
    let _ = detect_format(s);
}

#[test]
fn arbitrary_text_never_panics() {
    property("arbitrary text", default_cases(), ".*", |s: String| {
        every_parser(&s)
    });
}

#[test]
fn token_soup_never_panics() {
    property("token soup", default_cases(), token_text(), |s| {
        every_parser(&s)
    });
}

#[test]
fn json_noise_never_panics() {
    property("json noise", default_cases(), json_noise(), |s| {
        every_parser(&s)
    });
}

#[test]
fn mutated_criterion_directories_never_panic() {
    let root = format!("{SHARED}rust_criterion_json/criterion-0.5.1/criterion/");
    let names = [
        "fib 15/new/benchmark.json",
        "fib 15/new/sample.json",
        "fib 15/new/estimates.json",
        "sum/1000/new/benchmark.json",
        "sum/1000/new/sample.json",
        "sum/1000/new/estimates.json",
    ];
    let contents: Vec<String> = names
        .iter()
        .map(|n| {
            std::fs::read_to_string(format!("{root}{n}")).unwrap_or_else(|e| panic!("{n}: {e}"))
        })
        .collect();
    let strategy = (
        prop::collection::vec(any::<prop::sample::Index>(), 1..7),
        prop::collection::vec(mutation(), 0..4),
    );
    property(
        "criterion directories",
        default_cases() * 4,
        strategy,
        |(which, muts)| {
            let files: Vec<(&str, String)> = which
                .iter()
                .map(|ix| {
                    let i = ix.index(names.len());
                    (names[i], apply(&contents[i], &muts))
                })
                .collect();
            let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
            let _ = parse_files(Format::CriterionJson, &refs);
        },
    );
}

fn fuzz_cases() -> u32 {
    std::env::var("PERFWATCH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn mutated_fixtures_never_panic() {
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(), 1..5),
        any::<prop::sample::Index>(),
    );
    property(
        "mutated fixtures",
        fuzz_cases(),
        strategy,
        |(fx, muts, other)| {
            let (format, text) = fx.get(fixtures());
            let input = apply(text, &muts);
            exercise(*format, &input);
            // And one other parser, chosen at random, on the same damaged input.
            let _ = parse(*other.get(&Format::ALL), &input);
        },
    );
}
