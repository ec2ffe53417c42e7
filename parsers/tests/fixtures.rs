//! Every fixture parses, with benchmark names, measures, units, params and sample counts
//! asserted, is detected as its format, and passes the core's validation.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use common::*;
use perfwatch_core::Direction;
use perfwatch_parsers::{
    detect_format, detect_format_with_hint, parse, parse_files, Format, Location, Parsed,
};

fn parse_as(format: Format, input: &str) -> Parsed {
    assert_eq!(detect_format(input), Some(format), "detection");
    let p = parse(format, input).unwrap_or_else(|e| panic!("{e}"));
    assert_valid(&p);
    p
}

// ---------------------------------------------------------------- Go

#[test]
fn go_count3_gives_one_series_per_name_and_unit_with_three_samples() {
    let p = parse_as(
        Format::Go,
        &shared("go/generated_go1.19_bench_benchmem_count3.txt"),
    );
    assert_eq!(p.results.len(), 11);
    assert!(
        p.results.iter().all(|r| r.samples.len() == 3),
        "{:?}",
        sample_counts(&p)
    );
    let common = [("pkg", "example.com/gob"), ("procs", "2")];
    let fib10 = find(
        &p,
        "BenchmarkFib",
        "time",
        &[("n", "10"), common[0], common[1]],
    );
    assert_eq!(fib10.unit, "ns/op");
    assert_eq!(fib10.samples, vec![275.7, 393.5, 412.3]);
    assert_eq!(fib10.direction, Some(Direction::Lower));
    // Iteration counts differ between the three runs: none is reported.
    assert_eq!(fib10.iterations, None);
    find(
        &p,
        "BenchmarkFib",
        "alloc_bytes",
        &[("n", "20"), common[0], common[1]],
    );
    find(
        &p,
        "BenchmarkFib",
        "allocs",
        &[("n", "20"), common[0], common[1]],
    );
    let mbs = find(&p, "BenchmarkJoin", "throughput", &common);
    assert_eq!(
        (mbs.unit.as_str(), mbs.direction),
        ("MB/s", Some(Direction::Higher))
    );
    assert_eq!(mbs.samples, vec![71.24, 71.45, 68.55]);
    let custom = find(&p, "BenchmarkJoin", "parts/op", &common);
    assert_eq!(custom.unit, "parts/op");
    assert_eq!(custom.samples, vec![4.0, 4.0, 4.0]);
    assert_eq!(
        find(&p, "BenchmarkJoin", "alloc_bytes", &common).unit,
        "B/op"
    );
    assert_eq!(
        find(&p, "BenchmarkJoin", "allocs", &common).unit,
        "allocs/op"
    );
    assert_eq!(p.metadata["goos"], "linux");
    assert_eq!(p.metadata["goarch"], "amd64");
    assert_eq!(p.metadata["pkg"], "example.com/gob");
    assert_eq!(
        p.testbed_hint.as_deref(),
        Some("linux-amd64 Intel(R) Xeon(R) Processor")
    );
}

#[test]
fn go_test2json_matches_the_text_run() {
    let p = parse_as(
        Format::GoJson,
        &shared("go/generated_go1.19_bench_test2json.jsonl"),
    );
    let text = parse(
        Format::Go,
        &shared("go/generated_go1.19_bench_benchmem_count3.txt"),
    )
    .unwrap();
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
    assert_eq!(keys(&p), keys(&text));
    assert!(p.results.iter().all(|r| r.samples.len() == 1));
    let fib10 = find(
        &p,
        "BenchmarkFib",
        "time",
        &[("n", "10"), ("pkg", "example.com/gob"), ("procs", "2")],
    );
    assert_eq!(fib10.samples, vec![409.7]);
    assert_eq!(fib10.iterations, Some(303655));
    assert_eq!(p.testbed_hint, text.testbed_hint);
}

#[test]
fn go_suffixarray_has_42_benchmarks_of_4_measures_with_10_samples() {
    let p = parse_as(Format::Go, &shared("go/suffixarray.bench"));
    assert_eq!(p.results.len(), 42 * 4);
    assert!(p.results.iter().all(|r| r.samples.len() == 10));
    let base = [("pkg", "index/suffixarray"), ("procs", "8")];
    let r = find(
        &p,
        "BenchmarkNew",
        "time",
        &[
            ("text", "opticks"),
            ("size", "100K"),
            ("bits", "32"),
            base[0],
            base[1],
        ],
    );
    assert_eq!(r.samples.first(), Some(&4052123.0));
    let sr = find(
        &p,
        "BenchmarkSaveRestore",
        "throughput",
        &[("bits", "64"), base[0], base[1]],
    );
    assert_eq!(sr.unit, "MB/s");
    let names: std::collections::BTreeSet<_> =
        p.results.iter().map(|r| r.benchmark.as_str()).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        vec!["BenchmarkNew", "BenchmarkSaveRestore"]
    );
}

#[test]
fn go_benchfmt_minimal_file() {
    let p = parse_as(Format::Go, &shared("go/benchfmt_files_a.txt"));
    assert_eq!(p.results.len(), 2);
    assert_eq!(find(&p, "BenchmarkX", "time", &[]).iterations, Some(1));
    find(&p, "BenchmarkY", "time", &[]);
    assert!(p.testbed_hint.is_none());
}

// ---------------------------------------------------------------- Rust

#[test]
fn libtest_cargo_bench_output() {
    let p = parse_as(
        Format::Libtest,
        &shared("rust_libtest/gab_cargo_output.txt"),
    );
    assert_eq!(p.results.len(), 2);
    assert_eq!(find(&p, "bench_fib_10", "time", &[]).samples, vec![135.0]);
    let r = find(&p, "bench_fib_20", "time", &[]);
    assert_eq!(
        (r.unit.as_str(), r.samples.as_slice()),
        ("ns", &[18149.0][..])
    );
}

#[test]
fn libtest_decimals_and_throughput() {
    let p = parse_as(Format::Libtest, &own("libtest_decimals_throughput.txt"));
    assert_eq!(p.results.len(), 3);
    assert_eq!(
        find(&p, "tests::bench_add", "time", &[]).samples,
        vec![1.23]
    );
    assert_eq!(
        find(&p, "tests::bench_parse", "time", &[]).samples,
        vec![1234.56]
    );
    let t = find(&p, "tests::bench_parse", "throughput", &[]);
    assert_eq!(
        (t.unit.as_str(), t.samples.as_slice()),
        ("MB/s", &[810.0][..])
    );
}

#[test]
fn criterion_bencher_output_style_is_libtest() {
    let p = parse_as(
        Format::Libtest,
        &shared("rust_criterion_text/gab_criterion_output.txt"),
    );
    let names: Vec<_> = p.results.iter().map(|r| r.benchmark.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Create Realm",
            "Symbols (Execution)",
            "For loop (Execution)",
            "Fibonacci (Execution)"
        ]
    );
    assert_eq!(
        find(&p, "Fibonacci (Execution)", "time", &[]).samples,
        vec![1672496.0]
    );
}

#[test]
fn criterion_console_run_without_and_with_change_blocks() {
    for (file, fib, sum) in [
        ("cargo_bench_run1.stdout", 2542.1, 153.13),
        ("cargo_bench_run2.stdout", 3184.6, 164.01),
    ] {
        let p = parse_as(
            Format::Criterion,
            &shared(&format!("rust_criterion_json/criterion-0.5.1/{file}")),
        );
        assert_eq!(p.results.len(), 5, "{file}");
        let f = find(&p, "fib 15", "time", &[]);
        assert_eq!(f.unit, "ns");
        assert!((f.samples[0] - fib).abs() < 1e-6, "{file}: {:?}", f.samples);
        assert_eq!(find(&p, "sum/1000", "time", &[]).samples, vec![sum]);
        let t = find(&p, "sum/10000", "throughput", &[]);
        assert_eq!(
            (t.unit.as_str(), t.direction),
            ("elem/s", Some(Direction::Higher))
        );
        assert!(t.samples[0] > 5.5e9 && t.samples[0] < 6.0e9);
    }
}

#[test]
fn criterion_progress_on_stderr_holds_no_results() {
    let input = shared("rust_criterion_json/criterion-0.5.1/cargo_bench_run2.stderr");
    assert_eq!(detect_format(&input), None);
    let e = parse(Format::Criterion, &input).unwrap_err();
    assert_eq!(e.location, Location::Input);
}

/// Every file under the fixture's `criterion/` directory as (relative path, content).
fn criterion_dir() -> Vec<(String, String)> {
    let root = format!("{SHARED}rust_criterion_json/criterion-0.5.1/criterion");
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(&root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture directory readable") {
            let path = entry.expect("fixture directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .expect("walked from the root")
                    .to_string_lossy()
                    .into_owned();
                out.push((
                    rel,
                    std::fs::read_to_string(&path).expect("fixture file readable"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn criterion_json_directory() {
    let files = criterion_dir();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let p = parse_files(Format::CriterionJson, &refs).unwrap_or_else(|e| panic!("{e}"));
    assert_valid(&p);
    assert_eq!(p.results.len(), 5);
    assert!(
        p.results.iter().all(|r| r.samples.len() == 20),
        "{:?}",
        sample_counts(&p)
    );
    let fib = find(&p, "fib 15", "time", &[]);
    assert_eq!(fib.unit, "ns");
    // times[0] / iters[0] of fib 15/new/sample.json
    assert!((fib.samples[0] - 6535225.0 / 2053.0).abs() < 1e-9);
    let sum = find(&p, "sum", "time", &[("input", "1000")]);
    assert!((sum.samples[0] - 2338019.0 / 31117.0).abs() < 1e-9);
    find(&p, "sum", "time", &[("input", "10000")]);
    let thr = find(&p, "sum", "throughput", &[("input", "1000")]);
    assert_eq!((thr.unit.as_str(), thr.samples.len()), ("elem/s", 20));
    assert!((thr.samples[0] - 1000.0 * 1e9 / sum.samples[0]).abs() < 1.0);

    // The one-document form: {"<path>": content}, as a CLI without directory walking may pass.
    let bundle: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(p, c)| (p.clone(), serde_json::Value::from(c.as_str())))
        .collect();
    let bundle = serde_json::Value::Object(bundle).to_string();
    let q = parse_as(Format::CriterionJson, &bundle);
    assert_eq!(q, p);
}

#[test]
fn criterion_json_needs_benchmark_json() {
    let files = [("x/new/sample.json", r#"{"iters":[1],"times":[2]}"#)];
    let e = parse_files(Format::CriterionJson, &files).unwrap_err();
    assert!(e.to_string().contains("x/new/benchmark.json"), "{e}");
}

// ---------------------------------------------------------------- C++

#[test]
fn gbench_console_output_is_its_own_format() {
    // The table is read by gbench-console (tests/harnesses.rs), never mistaken for another
    // format, and the JSON reader refuses it.
    let input = shared("google_benchmark/generated_gbench_1.7.1_console.txt");
    assert_eq!(detect_format(&input), Some(Format::GbenchConsole));
    assert!(parse(Format::Gbench, &input).is_err());
}

#[test]
fn gbench_repetitions_are_samples_and_aggregates_are_not_counted() {
    let p = parse_as(
        Format::Gbench,
        &shared("google_benchmark/generated_gbench_1.7.1_out.json"),
    );
    // BM_Fib/10, BM_Fib/20: real and cpu time; three BM_Sum sizes: times plus two counters.
    assert_eq!(p.results.len(), 2 * 2 + 3 * 4);
    for n in ["BM_Fib/10", "BM_Fib/20"] {
        for m in ["real_time", "cpu_time"] {
            let r = find(&p, n, m, &[]);
            assert_eq!((r.unit.as_str(), r.samples.len()), ("ns", 1));
        }
    }
    for size in ["1024", "4096", "16384"] {
        let name = format!("BM_Sum/{size}");
        // 3 repetitions, not 3 + 4 aggregates.
        for m in [
            "real_time",
            "cpu_time",
            "bytes_per_second",
            "items_per_second",
        ] {
            assert_eq!(find(&p, &name, m, &[]).samples.len(), 3, "{name} {m}");
        }
        let b = find(&p, &name, "bytes_per_second", &[]);
        assert_eq!(
            (b.unit.as_str(), b.direction),
            ("B/s", Some(Direction::Higher))
        );
        assert_eq!(find(&p, &name, "items_per_second", &[]).unit, "items/s");
    }
    let r = find(&p, "BM_Sum/1024", "real_time", &[]);
    assert_eq!(
        r.samples,
        [
            "6.1742326717185631e+02",
            "5.0260939937989622e+02",
            "5.1621050301914204e+02"
        ]
        .map(|t| t.parse::<f64>().unwrap())
        .to_vec()
    );
    assert_eq!(r.iterations, Some(271103));
    assert_eq!(p.metadata["num_cpus"], 2);
    assert_eq!(p.metadata["library_build_type"], "debug");
}

#[test]
fn catch2_xml_v2_and_v3_layouts() {
    for (file, fib10, iters) in [
        (
            "catch2/generated_catch2_2.13.10_xml_reporter.xml",
            64.6703,
            345,
        ),
        ("catch2/generated_catch2_3.7.1_xml_reporter.xml", 264.36, 65),
    ] {
        let p = parse_as(Format::Catch2Xml, &shared(file));
        let names: Vec<_> = p.results.iter().map(|r| r.benchmark.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "Fibonacci/fib 10",
                "Fibonacci/fib 20",
                "Vector sum/accumulate 10000",
                "Vector sum/advanced accumulate"
            ],
            "{file}"
        );
        let r = find(&p, "Fibonacci/fib 10", "time", &[]);
        assert_eq!(
            (r.unit.as_str(), r.samples.as_slice(), r.iterations),
            ("ns", &[fib10][..], Some(iters))
        );
    }
    let p = parse(
        Format::Catch2Xml,
        &shared("catch2/generated_catch2_3.7.1_xml_reporter.xml"),
    )
    .unwrap();
    assert_eq!(p.metadata["catch2-version"], "3.7.1");
}

#[test]
fn catch2_console_matches_the_xml_names() {
    let p = parse_as(
        Format::Catch2,
        &shared("catch2/generated_catch2_3.7.1_console.txt"),
    );
    let xml = parse(
        Format::Catch2Xml,
        &shared("catch2/generated_catch2_3.7.1_xml_reporter.xml"),
    )
    .unwrap();
    let names = |p: &Parsed| {
        p.results
            .iter()
            .map(|r| r.benchmark.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&p), names(&xml));
    // Units converted to ns: "31.4928 us" → 31492.8 ns.
    let r = find(&p, "Fibonacci/fib 20", "time", &[]);
    assert!((r.samples[0] - 31492.8).abs() < 1e-6);
    assert_eq!(r.iterations, Some(1));
    assert_eq!(
        find(&p, "Fibonacci/fib 10", "time", &[]).samples,
        vec![264.244]
    );
}

// ---------------------------------------------------------------- Python, CLI

#[test]
fn pytest_benchmark_raw_data_and_params() {
    let p = parse_as(
        Format::Pytest,
        &shared("pytest_benchmark/generated_pytest-benchmark_5.3.1.json"),
    );
    assert_eq!(p.results.len(), 3);
    let f10 = find(&p, "test_bench.py::test_fib", "time", &[("n", "10")]);
    assert_eq!(
        (f10.unit.as_str(), f10.samples.len(), f10.iterations),
        ("s", 6866, Some(1))
    );
    assert_eq!(
        find(&p, "test_bench.py::test_fib", "time", &[("n", "15")])
            .samples
            .len(),
        901
    );
    let s = find(&p, "test_bench.py::test_sorted", "time", &[]);
    assert_eq!((s.samples.len(), s.iterations), (50, Some(10)));
    assert_eq!(p.metadata["pytest_benchmark_version"], "5.3.1");
    assert_eq!(p.metadata["commit_info"]["project"], "pyb");
    assert_eq!(
        p.testbed_hint.as_deref(),
        Some("linux-x86_64 Intel(R) Xeon(R) Processor")
    );
}

#[test]
fn hyperfine_two_commands() {
    let p = parse_as(
        Format::Hyperfine,
        &shared("hyperfine/generated_hyperfine_1.15.0_two_commands.json"),
    );
    assert_eq!(p.results.len(), 6);
    let t = find(&p, "sleep 0.01", "time", &[]);
    assert_eq!((t.unit.as_str(), t.samples.len()), ("s", 15));
    assert_eq!(t.samples[0], 0.0112492);
    assert_eq!(find(&p, "sleep 0.02", "time", &[]).samples.len(), 15);
    assert_eq!(find(&p, "sleep 0.02", "user_time", &[]).samples.len(), 1);
    find(&p, "sleep 0.02", "system_time", &[]);
}

#[test]
fn hyperfine_parameter_scan_is_one_benchmark_with_params() {
    let p = parse_as(
        Format::Hyperfine,
        &shared("hyperfine/generated_hyperfine_1.15.0_param_scan.json"),
    );
    assert_eq!(p.results.len(), 9);
    for n in ["1", "2", "3"] {
        let r = find(&p, "sleep 0.00{n}", "time", &[("n", n)]);
        assert_eq!(r.samples.len(), 10);
    }
}

// ---------------------------------------------------------------- JVM, .NET

#[test]
fn jmh_throughput_raw_data_and_percentiles() {
    let p = parse_as(Format::Jmh, &shared("jmh/gab_jmh_output.json"));
    assert_eq!(p.results.len(), 1);
    let r = find(
        &p,
        "org.openjdk.jmh.samples.JMHSample_01_HelloWorld.wellHelloThere",
        "throughput",
        &[],
    );
    assert_eq!(
        (r.unit.as_str(), r.direction),
        ("ops/s", Some(Direction::Higher))
    );
    assert_eq!(
        r.samples,
        vec![3.376842765688582E9, 3.37651988895058E9, 3.375353964729294E9]
    );
    assert_eq!(r.percentiles.len(), 10);
    assert_eq!(r.percentiles["50"], 3.37651988895058E9);
    assert_eq!(r.percentiles["99.9999"], 3.376842765688582E9);
    assert_eq!(p.metadata["jmhVersion"], "1.29");
}

#[test]
fn jmh_average_time_params_and_gc_profiler_metrics() {
    let p = parse_as(Format::Jmh, &own("jmh_avgt_params_gc.json"));
    // Two sizes × (avg_time + 4 gc metrics), plus a thrpt run with 4 threads.
    assert_eq!(p.results.len(), 2 * 5 + 1);
    let bench = "org.example.JsonBench.parse";
    for size in ["100", "1000"] {
        let t = find(&p, bench, "avg_time", &[("size", size)]);
        assert_eq!(
            (t.unit.as_str(), t.samples.len(), t.direction),
            ("ns/op", 6, Some(Direction::Lower))
        );
        let a = find(&p, bench, "gc.alloc.rate", &[("size", size)]);
        assert_eq!((a.unit.as_str(), a.samples.len()), ("MB/s", 6));
        assert_eq!(
            find(&p, bench, "gc.alloc.rate.norm", &[("size", size)]).unit,
            "B/op"
        );
        assert_eq!(
            find(&p, bench, "gc.count", &[("size", size)]).unit,
            "counts"
        );
        assert_eq!(find(&p, bench, "gc.time", &[("size", size)]).unit, "ms");
    }
    let thr = find(
        &p,
        bench,
        "throughput",
        &[("size", "100"), ("threads", "4")],
    );
    assert_eq!((thr.unit.as_str(), thr.samples.len()), ("ops/us", 6));
}

#[test]
fn bdn_statistics_original_values() {
    let p = parse_as(
        Format::Bdn,
        &shared("benchmarkdotnet/gab_benchmarkdotnet.json"),
    );
    assert_eq!(p.results.len(), 2);
    let r = find(&p, "Sample.Benchmarks.Fib10", "time", &[]);
    assert_eq!((r.unit.as_str(), r.samples.len()), ("ns", 14));
    assert_eq!(r.samples[0], 24.805462032556534);
    assert_eq!(
        find(&p, "Sample.Benchmarks.Fib20", "time", &[])
            .samples
            .len(),
        13
    );
    assert_eq!(p.metadata["BenchmarkDotNetVersion"], "0.12.1");
    assert_eq!(
        p.testbed_hint.as_deref(),
        Some("x64 Intel Core i7-7820HQ CPU 2.90GHz (Kaby Lake)")
    );
}

#[test]
fn bdn_workload_result_measurements_memory_and_failed_benchmarks() {
    let p = parse_as(Format::Bdn, &own("bdn_measurements_memory.json"));
    assert_eq!(p.results.len(), 4);
    for (n, alloc) in [("10", 112.0), ("100", 1024.0)] {
        let t = find(&p, "Bench.StringBenchmarks.Concat", "time", &[("N", n)]);
        // 15 Workload/Result iterations; Pilot, Actual and Overhead ones are not samples.
        assert_eq!(t.samples.len(), 15);
        assert!(t.iterations.is_some());
        let a = find(
            &p,
            "Bench.StringBenchmarks.Concat",
            "alloc_bytes",
            &[("N", n)],
        );
        assert_eq!(
            (a.unit.as_str(), a.samples.as_slice()),
            ("B/op", &[alloc][..])
        );
    }
    let t = find(&p, "Bench.StringBenchmarks.Concat", "time", &[("N", "10")]);
    assert!(
        t.samples.iter().all(|v| *v > 50.0 && *v < 56.0),
        "per operation: {:?}",
        t.samples
    );
    assert_eq!(
        p.metadata["failed_benchmarks"],
        serde_json::json!(["Bench.StringBenchmarks.Broken"])
    );
}

// ---------------------------------------------------------------- load tests, generic

#[test]
fn k6_handle_summary_data() {
    let p = parse_as(Format::K6, &shared("k6/k6_handleSummary_data.json"));
    // checks: rate, passes, fails; my_trend: 8 stats; vus: value, min, max; http_reqs: count, rate.
    assert_eq!(p.results.len(), 3 + 8 + 3 + 2);
    let checks = find(&p, "checks", "rate", &[]);
    assert_eq!(
        (
            checks.unit.as_str(),
            checks.samples.as_slice(),
            checks.direction
        ),
        ("%", &[75.0][..], Some(Direction::Higher))
    );
    let p95 = find(&p, "my_trend", "p95", &[]);
    assert_eq!(
        (p95.unit.as_str(), p95.samples.as_slice()),
        ("ms", &[19.5][..])
    );
    assert_eq!(find(&p, "my_trend", "med", &[]).samples, vec![15.0]);
    assert_eq!(find(&p, "http_reqs", "rate", &[]).unit, "1/s");
    assert_eq!(find(&p, "vus", "value", &[]).unit, "count");
    assert_eq!(
        p.metadata["failed_thresholds"],
        serde_json::json!(["http_reqs: rate<100", "my_trend: my_trend<1000"])
    );
}

#[test]
fn k6_http_metrics_and_tagged_sub_metrics() {
    let p = parse_as(Format::K6, &own("k6_http_summary.json"));
    let d = find(&p, "http_req_duration", "p95", &[]);
    assert_eq!(
        (d.unit.as_str(), d.samples.as_slice(), d.direction),
        ("ms", &[88.4][..], Some(Direction::Lower))
    );
    let post = find(&p, "http_req_duration", "p95", &[("name", "POST /groups")]);
    assert_eq!(post.samples, vec![101.7]);
    find(
        &p,
        "http_req_duration",
        "avg",
        &[("expected_response", "true")],
    );
    let failed = find(&p, "http_req_failed", "rate", &[]);
    assert_eq!(
        (failed.samples.as_slice(), failed.direction),
        (&[1.0][..], Some(Direction::Lower))
    );
    let reqs = find(&p, "http_reqs", "rate", &[]);
    assert_eq!(
        (reqs.unit.as_str(), reqs.direction),
        ("1/s", Some(Direction::Higher))
    );
    assert_eq!(find(&p, "data_received", "rate", &[]).unit, "B/s");
    assert_eq!(find(&p, "data_received", "count", &[]).unit, "B");
    assert_eq!(
        p.metadata["failed_thresholds"],
        serde_json::json!(["http_req_duration{name:POST /groups}: p(95)<100"])
    );
}

#[test]
fn bmf_measures_with_bencher_units() {
    let p = parse_as(Format::Bmf, &own("bmf.json"));
    assert_eq!(p.results.len(), 5);
    let l = find(&p, "bench_fib_20", "latency", &[]);
    assert_eq!(
        (l.unit.as_str(), l.samples.as_slice()),
        ("ns", &[18149.0][..])
    );
    assert_eq!(
        find(&p, "bench_fib_20", "throughput", &[]).direction,
        Some(Direction::Higher)
    );
    assert_eq!(find(&p, "binary", "file-size", &[]).unit, "B");
    assert_eq!(
        find(&p, "parse", "instructions", &[("size", "1000")]).unit,
        "count"
    );
}

#[test]
fn native_run_and_bare_results() {
    let p = parse_as(Format::Native, &own("native_run.json"));
    assert_eq!(p.results.len(), 2);
    assert_eq!(p.testbed_hint.as_deref(), Some("ci-large"));
    assert_eq!(p.metadata["ci_job"], "https://ci.example/jobs/123");
    let r = find(&p, "POST /groups", "latency_p99", &[("concurrency", "16")]);
    assert_eq!(r.percentiles["99"], 12.5);
    let q = parse_as(Format::Native, &own("native_results.json"));
    assert_eq!(
        find(&q, "group_create", "throughput", &[]).samples,
        vec![5100.0, 5230.0]
    );
}

// ---------------------------------------------------------------- detection, names

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>(), Ok(f));
        assert_eq!(f.to_string(), f.name());
    }
    assert!("nope".parse::<Format>().is_err());
}

#[test]
fn detection_falls_back_on_the_file_name_only_when_content_is_silent() {
    assert_eq!(
        detect_format_with_hint("", Some("results.xml")),
        Some(Format::Catch2Xml)
    );
    assert_eq!(
        detect_format_with_hint("BenchmarkX 1 2 ns/op\n", Some("results.xml")),
        Some(Format::Go)
    );
    assert_eq!(detect_format("hello\nworld\n"), None);
}

#[test]
fn parse_files_merges_series_across_files_and_names_the_file_in_errors() {
    let a = "BenchmarkX 10 1 ns/op\n";
    let b = "BenchmarkX 10 2 ns/op\n";
    let p = parse_files(Format::Go, &[("a.txt", a), ("b.txt", b)]).unwrap();
    assert_eq!(p.results[0].samples, vec![1.0, 2.0]);
    let e = parse_files(
        Format::Go,
        &[("a.txt", a), ("bad.txt", "BenchmarkX 10 1\n")],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "go: bad.txt: line 1: expected \"<value> <unit>\" pairs after the iteration count"
    );
}
