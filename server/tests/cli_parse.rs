//! `perfwatch parse`: the real binary, no server. It must show what `submit` would send
//! (format per file, series, units, sample counts), force a format with `--format`,
//! print JSON with `--json`, and exit non-zero when the files cannot be read or the
//! server would refuse the run.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

fn own(rel: &str) -> String {
    format!(
        "{}/../parsers/tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn shared(rel: &str) -> String {
    format!(
        "{}/../../shared/fixtures/formats/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn perfwatch(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("parse").args(args);
    // Nothing may depend on a server: point the variables `submit` reads at nothing.
    cmd.env_remove("PERFWATCH_URL")
        .env_remove("PERFWATCH_TOKEN");
    cmd.output().expect("run perfwatch")
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn temp_file(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pw_cli_parse_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

#[test]
fn text_output_lists_format_series_units_and_sample_counts() {
    let file = own("locust/locust-2.47.0_stats.csv");
    let o = perfwatch(&[&file]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("locust-2.47.0_stats.csv: locust, 15 series"),
        "{stdout}"
    );
    let latency = stdout
        .lines()
        .find(|l| l.starts_with("GET / · latency"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = latency.split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "GET / · latency",
            "ms",
            "1 sample",
            "266 iters",
            "lower",
            "median 5.379915530073774"
        ]
    );
    assert!(
        stdout.contains("15 series; the server would accept this run"),
        "{stdout}"
    );
}

#[test]
fn json_output_merges_files_of_two_formats() {
    let a = own("dhat/valgrind-3.19.0-dhat.json");
    let b = shared("google_benchmark/generated_gbench_1.7.1_console.txt");
    let o = perfwatch(&["--json", &a, &b]);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let formats: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["dhat", "gbench-console"]);
    assert_eq!(doc["files"][0]["series"], 8);
    assert_eq!(doc["files"][1]["series"], 16);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 8 + 16);
    assert_eq!(results[0]["benchmark"], "./a");
    assert_eq!(results[0]["measure"], "total_bytes");
    assert_eq!(results[0]["unit"], "B");
    assert_eq!(results[0]["samples"], serde_json::json!([10596.0]));
    let sum = results
        .iter()
        .find(|r| r["benchmark"] == "BM_Sum/1024" && r["measure"] == "real_time")
        .unwrap();
    assert_eq!(sum["samples"].as_array().unwrap().len(), 3);
    assert_eq!(doc["valid"], true);
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let mut child = Command::new(BIN)
        .args(["parse", &own("iai/iai-0.1_cargo_bench_with_changes.txt")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -c 1`: read one byte and close the pipe.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_forced_format_that_does_not_fit_names_format_and_place() {
    let file = own("locust/locust-2.47.0_stats.csv");
    let o = perfwatch(&["--format", "oha", &file]);
    let (stdout, stderr) = out(&o);
    assert!(!o.status.success(), "{stdout}");
    assert!(
        stderr.contains("oha: line 1: expected well-formed JSON"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_file_lists_every_format() {
    let file = temp_file("notes.txt", "just some words\n");
    let o = perfwatch(&[&file]);
    let (_, stderr) = out(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("could not tell the format"), "{stderr}");
    for f in ["vitest", "gungraun", "vegeta", "locust", "gbench-console"] {
        assert!(stderr.contains(f), "{f} not listed: {stderr}");
    }
}

#[test]
fn a_run_the_server_would_refuse_exits_1_with_the_reason() {
    let file = temp_file("bmf.json", r#"{"parse": {"latency": {"value": -5.0}}}"#);
    let o = perfwatch(&[&file]);
    let (stdout, _) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the server would refuse this run"),
        "{stdout}"
    );
    assert!(stdout.contains("must not be negative"), "{stdout}");
}
