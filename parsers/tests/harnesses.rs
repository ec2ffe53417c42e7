//! The harnesses added for issue 15 (and the load tools of issue 12): every fixture is
//! a real output (see tests/fixtures/SOURCES.md), asserted benchmark by benchmark with
//! measure, unit and sample count, detected as its format and valid for the core.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use common::*;
use perfwatch_core::Direction;
use perfwatch_parsers::{detect_format, parse, parse_files, Format, Parsed};

fn parse_as(format: Format, input: &str) -> Parsed {
    assert_eq!(detect_format(input), Some(format), "detection");
    let p = parse(format, input).unwrap_or_else(|e| panic!("{e}"));
    assert_valid(&p);
    p
}

/// (benchmark, measure, unit, sample count) of every series, in order.
fn table(p: &Parsed) -> Vec<(String, String, String, usize)> {
    p.results
        .iter()
        .map(|r| {
            (
                r.benchmark.clone(),
                r.measure.clone(),
                r.unit.clone(),
                r.samples.len(),
            )
        })
        .collect()
}

fn rows(expected: &[(&str, &str, &str, usize)]) -> Vec<(String, String, String, usize)> {
    expected
        .iter()
        .map(|(b, m, u, n)| (b.to_string(), m.to_string(), u.to_string(), *n))
        .collect()
}

// ---------------------------------------------------------------- real-world variants

#[test]
fn catch2_console_joins_names_wrapped_at_spaces_and_inside_words() {
    let p = parse_as(
        Format::Catch2,
        &own("catch2/catch2-2.13.10-console-wrapped.txt"),
    );
    assert_eq!(
        table(&p),
        rows(&[
            ("Fibonacci/fib 10", "time", "ns", 1),
            (
                "Fibonacci/a rather long benchmark name that the console reporter has to wrap",
                "time",
                "ns",
                1
            ),
            (
                "Fibonacci/averyveryverylongbenchmarknamewithoutanyspacesatallinit",
                "time",
                "ns",
                1
            ),
        ])
    );
    assert_eq!(p.results[1].samples, vec![965.236]);
    assert_eq!(p.results[1].iterations, Some(45));
    // `1.47222 us` is converted to ns.
    assert_eq!(p.results[2].samples, vec![1472.22]);
}

#[test]
fn bdn_with_a_null_namespace_names_the_benchmark_type_and_method() {
    let mut doc: serde_json::Value =
        serde_json::from_str(&shared("benchmarkdotnet/gab_benchmarkdotnet.json")).unwrap();
    for b in doc["Benchmarks"].as_array_mut().unwrap() {
        b["Namespace"] = serde_json::Value::Null;
    }
    let p = parse_as(Format::Bdn, &doc.to_string());
    assert!(!p.results.is_empty());
    assert!(
        p.results
            .iter()
            .all(|r| r.benchmark.starts_with("Benchmarks.")),
        "{:?}",
        table(&p)
    );
}

#[test]
fn libtest_without_benchmarks_says_so_instead_of_failing_detection() {
    let text = own("libtest/cargo-1.95-bench-no-benchmarks.txt");
    assert_eq!(detect_format(&text), Some(Format::Libtest));
    let e = parse(Format::Libtest, &text).unwrap_err();
    assert!(
        e.to_string()
            .contains("no benchmarks in this libtest output"),
        "{e}"
    );
}

#[test]
fn criterion_output_after_an_empty_libtest_run_is_still_criterion() {
    let text = shared("rust_criterion_json/criterion-0.5.1/cargo_bench_run1.stdout");
    let with_tests = format!(
        "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\n{text}"
    );
    assert_eq!(detect_format(&with_tests), Some(Format::Criterion));
}

#[test]
fn libtest_values_in_scaled_units_keep_the_printed_unit() {
    let text = "test bench_a ... bench:           8.2 µs/iter (+/- 0.5)\n\
                test bench_b ... bench:       1,234.5 ms/iter (+/- 7)\n";
    let p = parse_as(Format::Libtest, text);
    assert_eq!(
        table(&p),
        rows(&[("bench_a", "time", "µs", 1), ("bench_b", "time", "ms", 1)])
    );
    assert_eq!(p.results[1].samples, vec![1234.5]);
}

// ---------------------------------------------------------------- JavaScript

#[test]
fn vitest_bench_json_gives_time_with_percentiles_and_hz() {
    let p = parse_as(Format::Vitest, &own("vitest/vitest-4.1.12-bench.json"));
    assert_eq!(
        table(&p),
        rows(&[
            ("bench/sort.bench.js > fib 20", "time", "ms", 1),
            ("bench/sort.bench.js > fib 20", "throughput", "ops/s", 1),
            ("bench/sort.bench.js > sort > normal", "time", "ms", 1),
            (
                "bench/sort.bench.js > sort > normal",
                "throughput",
                "ops/s",
                1
            ),
            ("bench/sort.bench.js > sort > reverse", "time", "ms", 1),
            (
                "bench/sort.bench.js > sort > reverse",
                "throughput",
                "ops/s",
                1
            ),
        ])
    );
    let normal = find(&p, "bench/sort.bench.js > sort > normal", "time", &[]);
    assert_eq!(normal.samples, vec![0.2943609470588253]);
    assert_eq!(normal.iterations, Some(680));
    assert_eq!(normal.percentiles["50"], 0.28318000000001575);
    assert_eq!(normal.percentiles["99.9"], 1.0752140000000736);
}

#[test]
fn vitest_raw_samples_become_samples() {
    let json = r#"{"files":[{"filepath":"/x/a.bench.ts","groups":[{"fullName":"a.bench.ts","benchmarks":[
        {"name":"n","mean":1.5,"hz":666.6,"sampleCount":3,"samples":[1.0,1.5,2.0],"median":1.5}]}]}]}"#;
    let p = parse_as(Format::Vitest, json);
    assert_eq!(p.results[0].samples, vec![1.0, 1.5, 2.0]);
}

#[test]
fn benchmarkjs_console_gives_ops_per_second_and_runs() {
    let p = parse_as(
        Format::Benchmarkjs,
        &own("benchmarkjs/benchmarkjs-2.1.4-console.txt"),
    );
    assert_eq!(
        table(&p),
        rows(&[
            ("Array#sort", "throughput", "ops/s", 1),
            ("String#indexOf", "throughput", "ops/s", 1),
            ("RegExp#test", "throughput", "ops/s", 1),
            ("fib(20) recursive", "throughput", "ops/s", 1),
        ])
    );
    let r = find(&p, "String#indexOf", "throughput", &[]);
    assert_eq!(r.samples, vec![698_700_954.0]);
    assert_eq!(r.iterations, Some(81));
    assert_eq!(r.direction, Some(Direction::Higher));
}

// ---------------------------------------------------------------- Python

#[test]
fn asv_results_with_benchmarks_json_name_params_and_keep_samples() {
    let results = own("asv/asv-0.6.6-results.json");
    let decl = own("asv/asv-0.6.6-benchmarks.json");
    let alone = parse_as(Format::Asv, &results);
    // Without benchmarks.json the parameters are positional.
    assert!(alone.results[0].params.contains_key("param1"));
    let p = parse_files(
        Format::Asv,
        &[
            ("results/benchmarks.json", &decl),
            ("results/vm/r.json", &results),
        ],
    )
    .unwrap();
    assert_valid(&p);
    assert_eq!(
        p.results
            .iter()
            .map(|r| (
                r.benchmark.as_str(),
                r.params.get("n").map(String::as_str),
                r.measure.as_str(),
                r.unit.as_str(),
                r.samples.len()
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                "bench_basic.TimeSuite.time_sorted",
                Some("10"),
                "time",
                "s",
                5
            ),
            (
                "bench_basic.TimeSuite.time_sorted",
                Some("100"),
                "time",
                "s",
                5
            ),
            ("bench_basic.TimeSuite.time_sum", Some("10"), "time", "s", 5),
            (
                "bench_basic.TimeSuite.time_sum",
                Some("100"),
                "time",
                "s",
                5
            ),
            ("bench_basic.mem_list", None, "memory", "B", 1),
            ("bench_basic.peakmem_list", None, "peakmemory", "B", 1),
            ("bench_basic.time_range", None, "time", "s", 5),
            ("bench_basic.track_value", None, "value", "widgets", 1),
        ]
    );
    let range = find(&p, "bench_basic.time_range", "time", &[]);
    assert_eq!(range.samples[0], 3.4749267161311386e-05);
    assert_eq!(range.iterations, Some(539));
    assert_eq!(
        find(&p, "bench_basic.mem_list", "memory", &[]).samples,
        vec![2104.0]
    );
    assert_eq!(
        p.metadata["commit_hash"],
        "8b70aea2653866de764a5d1affd75a25dc861072"
    );
    assert_eq!(p.testbed_hint.as_deref(), Some("vm x86_64 AMD EPYC"));
}

// ---------------------------------------------------------------- Ruby

#[test]
fn ruby_benchmark_ips_reads_suffixed_rates() {
    let p = parse_as(Format::Ruby, &own("ruby/crockford32_benchmark-ips.txt"));
    assert_eq!(
        table(&p),
        rows(&[
            ("encode", "throughput", "ops/s", 1),
            ("decode", "throughput", "ops/s", 1),
            ("encode string", "throughput", "ops/s", 1),
            ("decode string", "throughput", "ops/s", 1),
        ])
    );
    assert_eq!(p.results[0].samples, vec![117_614.0]);
}

#[test]
fn ruby_benchmark_ips_long_labels_on_their_own_line() {
    let p = parse_as(
        Format::Ruby,
        &own("ruby/micro-service_benchmark-ips_wrapped.txt"),
    );
    assert_eq!(
        table(&p),
        rows(&[
            ("Micro::Service::Base", "throughput", "ops/s", 1),
            ("Micro::Service::Strict", "throughput", "ops/s", 1),
            ("Interactor", "throughput", "ops/s", 1),
        ])
    );
    assert_eq!(p.results[1].samples, vec![46_253.0]);
}

#[test]
fn ruby_bmbm_skips_the_rehearsal() {
    let p = parse_as(Format::Ruby, &own("ruby/pcgrandom_benchmark_bmbm.txt"));
    assert_eq!(
        table(&p),
        rows(&[
            ("Random.new_seed", "real", "s", 1),
            ("Random.new_seed", "user", "s", 1),
            ("Random.new_seed", "system", "s", 1),
            ("PCGRandom.new_seed", "real", "s", 1),
            ("PCGRandom.new_seed", "user", "s", 1),
            ("PCGRandom.new_seed", "system", "s", 1),
        ])
    );
    // The measured run, not the rehearsal (1.323970).
    assert_eq!(p.results[0].samples, vec![1.321571]);
}

// ---------------------------------------------------------------- C++

#[test]
fn gbench_console_reads_like_the_json_reporter() {
    let p = parse_as(
        Format::GbenchConsole,
        &shared("google_benchmark/generated_gbench_1.7.1_console.txt"),
    );
    let json = parse(
        Format::Gbench,
        &shared("google_benchmark/generated_gbench_1.7.1_out.json"),
    )
    .unwrap();
    // Same series (names, params, measures, units) as the JSON reporter.
    let keys = |p: &Parsed| {
        p.results
            .iter()
            .map(|r| {
                (
                    r.benchmark.clone(),
                    r.measure.clone(),
                    r.unit.clone(),
                    r.params.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&p), keys(&json));
    let sum = find(&p, "BM_Sum/1024", "real_time", &[]);
    assert_eq!(sum.samples, vec![626.0, 559.0, 551.0]);
    assert_eq!(sum.iterations, Some(243114));
    let bytes = find(&p, "BM_Sum/1024", "bytes_per_second", &[]);
    // `24.4375G/s` of bytes is binary (GiB/s), items decimal.
    assert_eq!(bytes.samples[0], 24.4375 * 1024.0 * 1024.0 * 1024.0);
    let items = find(&p, "BM_Sum/1024", "items_per_second", &[]);
    assert_eq!(items.samples[0], 3.27994 * 1e9);
}

// ---------------------------------------------------------------- valgrind-based

#[test]
fn iai_counts_are_first_class_units() {
    let p = parse_as(
        Format::Iai,
        &own("iai/iai-0.1_cargo_bench_with_changes.txt"),
    );
    assert_eq!(p.results.len(), 7 * 5);
    assert!(p.results.iter().all(|r| r.samples.len() == 1));
    let names: Vec<&str> = p
        .results
        .iter()
        .step_by(5)
        .map(|r| r.benchmark.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "invoke_message_default",
            "invoke_messagemf_default",
            "invoke_message_borrowed",
            "invoke_message_owned",
            "invoke_messagemf_borrowed",
            "invoke_messagemf_owned",
            "invoke_messagemf_borrowed2"
        ]
    );
    assert_eq!(
        table(&p)[..5].to_vec(),
        rows(&[
            ("invoke_message_default", "instructions", "instructions", 1),
            ("invoke_message_default", "l1_accesses", "accesses", 1),
            ("invoke_message_default", "l2_accesses", "accesses", 1),
            ("invoke_message_default", "ram_accesses", "accesses", 1),
            ("invoke_message_default", "estimated_cycles", "cycles", 1),
        ])
    );
    // The change column `(-9.066667%)` is not the value.
    assert_eq!(
        find(&p, "invoke_message_default", "estimated_cycles", &[]).samples,
        vec![341.0]
    );
    let u = perfwatch_core::units::normalize_unit("cycles");
    assert_eq!(u.kind, perfwatch_core::units::UnitKind::Count);
}

#[test]
fn iai_callgrind_ids_become_params_and_hits_are_better_higher() {
    let p = parse_as(
        Format::Gungraun,
        &own("gungraun/iai-callgrind_readme_library_bench.txt"),
    );
    let bench = "test_lib_bench_readme_example_fibonacci::bench_fibonacci_group::bench_fibonacci";
    assert_eq!(p.results.len(), 12);
    for id in ["short:10", "long:30"] {
        for (m, unit) in [
            ("instructions", "instructions"),
            ("l1_hits", "hits"),
            ("l2_hits", "hits"),
            ("ram_hits", "hits"),
            ("total_read_write", "accesses"),
            ("estimated_cycles", "cycles"),
        ] {
            let r = find(&p, bench, m, &[("id", id)]);
            assert_eq!((r.unit.as_str(), r.samples.len()), (unit, 1));
        }
    }
    assert_eq!(
        find(&p, bench, "instructions", &[("id", "long:30")]).samples,
        vec![26214733.0]
    );
    assert_eq!(
        find(&p, bench, "l1_hits", &[("id", "short:10")]).direction,
        Some(Direction::Higher)
    );
    assert_eq!(
        find(&p, bench, "ram_hits", &[("id", "short:10")]).direction,
        Some(Direction::Lower)
    );
}

#[test]
fn gungraun_reads_callgrind_and_perf_sections() {
    let p = parse_as(
        Format::Gungraun,
        &own("gungraun/gungraun_guide_callgrind_perf.txt"),
    );
    let bench = "lib_bench_perf::my_group::bench_library";
    let id = [("id", "fibonacci_25:(25)")];
    assert_eq!(p.results.len(), 6 + 9);
    assert_eq!(find(&p, bench, "ll_hits", &id).unit, "hits");
    assert_eq!(
        find(&p, bench, "estimated_cycles", &id).samples,
        vec![3485012.0]
    );
    let t = find(&p, bench, "perf_task_clock_u", &id);
    assert_eq!((t.unit.as_str(), t.samples[0]), ("us", 201.9));
    assert_eq!(
        find(&p, bench, "perf_cpu_core_cache_misses_u", &id).unit,
        "misses"
    );
}

#[test]
fn dhat_profile_sums_program_points() {
    let p = parse_as(Format::Dhat, &own("dhat/valgrind-3.19.0-dhat.json"));
    assert_eq!(
        table(&p),
        rows(&[
            ("./a", "total_bytes", "B", 1),
            ("./a", "total_blocks", "blocks", 1),
            ("./a", "peak_bytes", "B", 1),
            ("./a", "peak_blocks", "blocks", 1),
            ("./a", "end_bytes", "B", 1),
            ("./a", "end_blocks", "blocks", 1),
            ("./a", "bytes_read", "B", 1),
            ("./a", "bytes_written", "B", 1),
        ])
    );
    // 100 × 64 B + 4096 B + 100 B allocated; the 100 B block leaks.
    assert_eq!(p.results[0].samples, vec![10596.0]);
    assert_eq!(p.results[1].samples, vec![102.0]);
    assert_eq!(p.results[4].samples, vec![100.0]);
}

// ---------------------------------------------------------------- load tools

/// The five series every load reader gives one request name.
fn load_rows(bench: &str) -> Vec<(String, String, String, usize)> {
    rows(&[
        (bench, "requests", "count", 1),
        (bench, "failures", "count", 1),
        (bench, "error_rate", "%", 1),
        (bench, "throughput", "1/s", 1),
        (bench, "latency", "ms", 1),
    ])
}

#[test]
fn locust_stats_csv_per_request_and_aggregated() {
    let p = parse_as(Format::Locust, &own("locust/locust-2.47.0_stats.csv"));
    let mut expected = load_rows("GET /");
    expected.extend(load_rows("GET /missing"));
    expected.extend(load_rows("Aggregated"));
    assert_eq!(table(&p), expected);
    let lat = find(&p, "GET /", "latency", &[]);
    assert_eq!(lat.samples, vec![5.379915530073774]);
    assert_eq!(lat.iterations, Some(266));
    assert_eq!(lat.percentiles["99"], 23.0);
    assert_eq!(lat.percentiles["99.99"], 28.0);
    assert_eq!(
        find(&p, "GET /missing", "error_rate", &[]).samples,
        vec![100.0]
    );
}

#[test]
fn oha_json_counts_deadline_errors_as_failures() {
    let p = parse_as(Format::Oha, &own("oha/crush-test_oha_c20_z10s.json"));
    assert_eq!(table(&p), load_rows("oha"));
    assert_eq!(find(&p, "oha", "requests", &[]).samples, vec![27673.0]);
    assert_eq!(find(&p, "oha", "failures", &[]).samples, vec![20.0]);
    let lat = find(&p, "oha", "latency", &[]);
    assert_eq!(lat.samples, vec![0.007225086946841218 * 1000.0]);
    assert_eq!(lat.percentiles["99.9"], 0.050760319 * 1000.0);
}

#[test]
fn vegeta_json_report_in_ms_with_failures_from_success_ratio() {
    let ok = parse_as(Format::Vegeta, &own("vegeta/seldon_benchmark_report.json"));
    let mut expected = load_rows("vegeta");
    expected.push(("vegeta".into(), "rate".into(), "1/s".into(), 1));
    assert_eq!(table(&ok), expected);
    let lat = find(&ok, "vegeta", "latency", &[]);
    assert_eq!(lat.samples, vec![273.785299]);
    assert_eq!(lat.percentiles["99"], 2137.159641);
    assert_eq!(lat.percentiles["100"], 5772.97942);
    let bad = parse_as(Format::Vegeta, &own("vegeta/errors_status0_report.json"));
    assert_eq!(find(&bad, "vegeta", "failures", &[]).samples, vec![58866.0]);
    assert_eq!(bad.metadata["status_codes"]["0"], 58866);
}

#[test]
fn goose_report_requests_transactions_and_scenarios() {
    let p = parse_as(Format::Goose, &own("goose/goose_baseline_test_report.json"));
    let mut expected = load_rows("GET /");
    expected.extend(load_rows("transaction test_transaction"));
    expected.extend(rows(&[
        ("scenario test_scenario", "requests", "count", 1),
        ("scenario test_scenario", "throughput", "1/s", 1),
        ("scenario test_scenario", "latency", "ms", 1),
    ]));
    assert_eq!(table(&p), expected);
    let lat = find(&p, "GET /", "latency", &[]);
    assert_eq!(lat.samples, vec![150.5]);
    assert_eq!(lat.percentiles["95"], 150.0);
    assert_eq!(find(&p, "GET /", "error_rate", &[]).samples, vec![5.0]);
}

#[test]
fn k6_machine_readable_summary_gives_the_same_series_as_handle_summary_data() {
    let new = parse_as(Format::K6, &own("k6/k6_machine_readable_summary.json"));
    let old = parse(Format::K6, &shared("k6/k6_handleSummary_data.json")).unwrap();
    let series = |p: &Parsed| {
        p.results
            .iter()
            .map(|r| {
                (
                    r.benchmark.clone(),
                    r.measure.clone(),
                    r.unit.clone(),
                    r.samples.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let new_series = series(&new);
    // The new summary drops `fails` (it has `total` instead); all else is the same.
    for s in series(&old).into_iter().filter(|s| s.1 != "fails") {
        assert!(
            new_series.contains(&s),
            "{s:?} missing from {new_series:#?}"
        );
    }
    let checks = find(&new, "checks", "passes", &[]);
    assert_eq!(checks.samples, vec![45.0]);
    assert_eq!(find(&new, "checks", "rate", &[]).samples, vec![75.0]);
    assert_eq!(find(&new, "checks", "total", &[]).samples, vec![60.0]);
}

// ---------------------------------------------------------------- Bencher's adapter test outputs

#[test]
fn bdn_without_type_and_with_a_null_namespace_uses_the_method() {
    let p = parse_as(Format::Bdn, &own("bencher/bdn_null_namespace.json"));
    assert_eq!(table(&p), rows(&[("NullNamespaceMethod", "time", "ns", 1)]));
    assert_eq!(p.results[0].samples, vec![0.0]);
}

#[test]
fn dart_benchmark_harness_runtime_lines() {
    let p = parse_as(Format::Dart, &own("dart/bencher_benchmark_harness_two.txt"));
    assert_eq!(
        table(&p),
        rows(&[("Template", "time", "us", 1), ("ForLoop", "time", "us", 1)])
    );
    assert_eq!(p.results[1].samples, vec![2.0]);
}

#[test]
fn benchmarkjs_with_decimal_rates_and_surrounding_lines() {
    let p = parse_as(
        Format::Benchmarkjs,
        &own("bencher/benchmarkjs_issue_506.txt"),
    );
    assert_eq!(p.results.len(), 6);
    let r = find(&p, "sha512 wasm from string utf8", "throughput", &[]);
    assert_eq!((r.samples[0], r.iterations), (15.20, Some(7)));
}

#[test]
fn gungraun_ids_spanning_several_lines_are_joined() {
    let p = parse_as(
        Format::Gungraun,
        &own("bencher/gungraun_name_on_multiple_lines.txt"),
    );
    assert_eq!(p.results.len(), 12);
    let bench = "rust_iai_callgrind::bench::multiple_lines";
    let r = find(
        &p,
        bench,
        "instructions",
        &[("id", "id_0:string with two lines")],
    );
    assert_eq!(r.samples, vec![1.0]);
    let r = find(
        &p,
        bench,
        "estimated_cycles",
        &[("id", "id_1:string with multiple lines and one more")],
    );
    assert_eq!(r.samples, vec![12.0]);
}

#[test]
fn gungraun_dhat_section_measures_are_prefixed() {
    let p = parse_as(Format::Gungraun, &own("bencher/gungraun_with_dhat.txt"));
    let bench = "rust_iai_callgrind::bench_fibonacci_group::bench_fibonacci";
    assert_eq!(p.results.len(), 2 * (6 + 8));
    let id = [("id", "long:30")];
    let r = find(&p, bench, "dhat_total_bytes", &id);
    assert_eq!((r.unit.as_str(), r.samples[0]), ("B", 26294939.0));
    assert_eq!(find(&p, bench, "dhat_at_t_gmax_blocks", &id).unit, "blocks");
    assert_eq!(
        find(&p, bench, "instructions", &id).samples,
        vec![26214734.0]
    );
}

#[test]
fn libtest_large_decimal_values_among_ignored_tests() {
    let p = parse_as(Format::Libtest, &own("bencher/libtest_issue_390.txt"));
    assert_eq!(p.results.len(), 4);
    let r = find(&p, "bleu::benchmark::bench_batch_bleu", "time", &[]);
    assert_eq!((r.unit.as_str(), r.samples[0]), ("ns", 13_967_756.30));
}

#[test]
fn libtest_failed_benchmarks_are_listed_not_dropped_silently() {
    let p = parse_as(Format::Libtest, &own("bencher/libtest_failed.txt"));
    assert_eq!(
        table(&p),
        rows(&[
            ("tests::benchmark_a", "time", "ns", 1),
            ("tests::benchmark_c", "time", "ns", 1)
        ])
    );
    assert_eq!(
        p.metadata["failed_benchmarks"],
        serde_json::json!(["tests::benchmark_b"])
    );
}

#[test]
fn ruby_benchmark_labels_lose_the_colon_and_derived_rows_are_skipped() {
    let p = parse_as(Format::Ruby, &own("bencher/ruby_benchmark_five.txt"));
    let names: Vec<&str> = p
        .results
        .iter()
        .step_by(3)
        .map(|r| r.benchmark.as_str())
        .collect();
    assert_eq!(names, ["for", "times", "upto"]);
    assert_eq!(find(&p, "upto", "real", &[]).samples, vec![0.946787]);
}

#[test]
fn libtest_custom_measurement_units() {
    let p = parse_as(Format::Libtest, &own("libtest/gab_cargo_output_units.txt"));
    assert_eq!(
        table(&p),
        rows(&[
            ("cmov", "cycles", "cycles", 1),
            ("cmov2", "cycles", "cycles", 1),
            ("mov", "cycles", "cycles", 1),
            ("upload", "throughput", "MS/s", 1),
            ("download", "throughput", "MS/s", 1),
        ])
    );
    assert_eq!(p.results[0].samples, vec![2835.0]);
    assert_eq!(p.results[4].direction, Some(Direction::Higher));
}

#[test]
fn julia_benchmarktools_groups_become_names() {
    let p = parse_as(Format::Julia, &own("julia/gab_julia_output.json"));
    let mut t = table(&p);
    t.sort();
    assert_eq!(
        t,
        rows(&[
            ("fib/10", "allocs", "count", 1),
            ("fib/10", "gc_time", "ns", 1),
            ("fib/10", "memory", "B", 1),
            ("fib/10", "time", "ns", 1),
            ("fib/20", "allocs", "count", 1),
            ("fib/20", "gc_time", "ns", 1),
            ("fib/20", "memory", "B", 1),
            ("fib/20", "time", "ns", 1),
        ])
    );
    let r = find(&p, "fib/10", "time", &[]);
    assert_eq!(
        (r.samples[0], r.iterations),
        (246.03846153846155, Some(390))
    );
    assert_eq!(p.metadata["BenchmarkTools"], "1.0.0");
}

#[test]
fn julia_trials_keep_every_sample() {
    let json = r#"[{"Julia":"1.10.0","BenchmarkTools":"1.4.0"},[["BenchmarkGroup",{"data":{
        "sum":["Trial",{"allocs":1,"gctimes":[0.0,0.0,10.0],"memory":64,"params":["Parameters",{"evals":10}],"times":[100.0,101.5,99.0]}]},"tags":[]}]]]"#;
    let p = parse_as(Format::Julia, json);
    let r = find(&p, "sum", "time", &[]);
    assert_eq!(r.samples, vec![100.0, 101.5, 99.0]);
    assert_eq!(r.iterations, Some(10));
    assert_eq!(find(&p, "sum", "memory", &[]).samples, vec![64.0]);
}

#[test]
fn catch2_console_with_a_wider_name_column_and_punctuation_in_names() {
    let p = parse_as(Format::Catch2, &own("catch2/gab_catch2_output_v3.txt"));
    assert_eq!(
        table(&p),
        rows(&[
            ("Fibonacci/Fibonacci 10", "time", "ns", 1),
            ("Fibonacci/Fibonacci 20", "time", "ns", 1),
            ("More Fibonacci/Fibonacci~ 5!", "time", "ns", 1),
            ("More Fibonacci/Fibonacci-15_bench", "time", "ns", 1),
        ])
    );
    assert_eq!(p.results[1].samples, vec![41731.0]);
    assert_eq!(p.results[2].iterations, Some(1961));
}
