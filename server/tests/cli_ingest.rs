//! `perfwatch submit | run | import` end to end: the real binary against a server
//! started in-process on a fresh SQLite database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

fn fixture(rel: &str) -> String {
    format!(
        "{}/../../shared/fixtures/formats/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A fresh, empty directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    let dir = std::env::temp_dir().join(format!(
        "pw_cli_{name}_{}_{}",
        std::process::id(),
        hex::encode(r)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn app_with_project(slug: &str) -> TestApp {
    let app = spawn_app(Db::Sqlite).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "slug": slug }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    app
}

/// Runs the binary in `dir` with the server's URL and token, a clean CI environment
/// and `env` on top.
async fn perfwatch(app: &TestApp, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("PERFWATCH_URL", &app.base)
        .env("PERFWATCH_TOKEN", &app.token)
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("run perfwatch")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(
        o.status.success(),
        "status {}\nstdout:\n{out}\nstderr:\n{err}",
        o.status
    );
    out
}

/// The run id in "submitted run 12 of …".
fn run_id(stdout: &str) -> i64 {
    let rest = stdout
        .split("run ")
        .nth(1)
        .unwrap_or_else(|| panic!("no run id in {stdout}"));
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

async fn get(app: &TestApp, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn runs_stored(app: &TestApp) -> i64 {
    app.store
        .row_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t == "runs")
        .unwrap()
        .1
}

fn sha(n: u64) -> String {
    format!("{n:040x}")
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Ada Lovelace",
            "-c",
            "user.email=ada@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository with one commit on `main`.
fn git_repo(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    git(&dir, &["init", "-q", "-b", "main"], "2024-01-01T10:00:00Z");
    std::fs::write(dir.join("a.txt"), "1").unwrap();
    git(&dir, &["add", "a.txt"], "2024-01-01T10:00:00Z");
    git(
        &dir,
        &["commit", "-q", "-m", "first commit"],
        "2024-01-01T10:00:00Z",
    );
    dir
}

fn git_commit(dir: &Path, message: &str, date: &str) {
    std::fs::write(dir.join("a.txt"), message).unwrap();
    git(dir, &["commit", "-q", "-a", "-m", message], date);
}

/// Go benchmark output with 5 repeats of BenchmarkA (≈ `a` ns/op) and BenchmarkB.
fn go_output(a: f64, b: f64) -> String {
    let mut s = String::from("goos: linux\ngoarch: amd64\npkg: example.com/x\n");
    for d in [0.0, 1.0, -1.0, 0.5, -0.5] {
        s.push_str(&format!(
            "BenchmarkA-4   1000   {:.2} ns/op\nBenchmarkB-4   1000   {:.2} ns/op\n",
            a + d,
            b + d
        ));
    }
    s.push_str("PASS\n");
    s
}

#[tokio::test]
async fn submit_go_file_stores_every_series_and_sample() {
    let app = app_with_project("gob").await;
    let dir = temp_dir("submit_go");
    let file = fixture("go/generated_go1.19_bench_benchmem_count3.txt");
    let o = perfwatch(
        &app,
        &dir,
        &[
            "submit",
            "--format",
            "go",
            "--project",
            "gob",
            "--branch",
            "main",
            "--commit",
            &sha(1),
            &file,
        ],
        &[],
    )
    .await;
    let out = assert_ok(&o);
    assert!(out.contains("11 series, 33 samples"), "{out}");
    assert!(out.contains(&format!("/runs/{}", run_id(&out))), "{out}");

    let series = get(&app, "/api/v1/projects/gob/series").await;
    assert_eq!(series.as_array().unwrap().len(), 11);
    let run = get(&app, &format!("/api/v1/runs/{}", run_id(&out))).await;
    let m = run["measurements"].as_array().unwrap();
    assert_eq!(m.len(), 11);
    assert!(m
        .iter()
        .all(|x| x["samples"].as_array().unwrap().len() == 3));
    assert_eq!(run["commit"]["sha"], sha(1));
    assert_eq!(run["branch"], "main");
    assert_eq!(run["metadata"]["format"], "go");
    assert_eq!(run["metadata"]["goos"], "linux");
}

#[tokio::test]
async fn submit_detects_the_format_of_each_fixture() {
    let app = app_with_project("many").await;
    let dir = temp_dir("detect");
    let cases = [
        ("go/generated_go1.19_bench_benchmem_count3.txt", "go"),
        ("go/generated_go1.19_bench_test2json.jsonl", "go-json"),
        ("rust_libtest/gab_cargo_output.txt", "libtest"),
        // Criterion's `--output-format bencher` is libtest's layout.
        ("rust_criterion_text/gab_criterion_output.txt", "libtest"),
        (
            "rust_criterion_json/criterion-0.5.1/cargo_bench_run1.stdout",
            "criterion",
        ),
        (
            "rust_criterion_json/criterion-0.5.1/criterion",
            "criterion-json",
        ),
        ("google_benchmark/generated_gbench_1.7.1_out.json", "gbench"),
        (
            "pytest_benchmark/generated_pytest-benchmark_5.3.1.json",
            "pytest",
        ),
        (
            "hyperfine/generated_hyperfine_1.15.0_two_commands.json",
            "hyperfine",
        ),
        ("jmh/gab_jmh_output.json", "jmh"),
        (
            "catch2/generated_catch2_3.7.1_xml_reporter.xml",
            "catch2-xml",
        ),
        ("catch2/generated_catch2_3.7.1_console.txt", "catch2"),
        ("k6/k6_handleSummary_data.json", "k6"),
        ("benchmarkdotnet/gab_benchmarkdotnet.json", "bdn"),
    ];
    for (i, (file, format)) in cases.iter().enumerate() {
        let path = fixture(file);
        let testbed = format!("tb-{format}");
        let commit = sha(i as u64 + 1);
        let o = perfwatch(
            &app,
            &dir,
            &[
                "submit",
                "--project",
                "many",
                "--branch",
                "main",
                "--commit",
                &commit,
                "--testbed",
                &testbed,
                &path,
            ],
            &[],
        )
        .await;
        let out = assert_ok(&o);
        let run = get(&app, &format!("/api/v1/runs/{}", run_id(&out))).await;
        assert_eq!(run["metadata"]["format"], *format, "{file}");
        assert!(
            !run["measurements"].as_array().unwrap().is_empty(),
            "{file}: no measurements"
        );
    }
}

#[tokio::test]
async fn several_files_make_one_run_and_a_series_in_two_files_is_refused() {
    let app = app_with_project("p").await;
    let dir = temp_dir("merge");
    std::fs::write(dir.join("a.txt"), "BenchmarkA-4 100 10 ns/op\n").unwrap();
    std::fs::write(dir.join("b.txt"), "BenchmarkB-4 100 20 ns/op\n").unwrap();
    std::fs::write(dir.join("c.txt"), "BenchmarkA-4 100 11 ns/op\n").unwrap();
    let base = [
        "submit",
        "--project",
        "p",
        "--branch",
        "main",
        "--commit",
        "abcd1234",
    ];
    let o = perfwatch(&app, &dir, &[&base[..], &["a.txt", "b.txt"]].concat(), &[]).await;
    assert!(assert_ok(&o).contains("2 series"));
    let o = perfwatch(&app, &dir, &[&base[..], &["a.txt", "c.txt"]].concat(), &[]).await;
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("a.txt") && err.contains("c.txt"), "{err}");
    assert_eq!(runs_stored(&app).await, 1);
}

#[tokio::test]
async fn parse_error_names_file_and_line_and_submits_nothing() {
    let app = app_with_project("p").await;
    let dir = temp_dir("bad");
    std::fs::write(
        dir.join("bad.txt"),
        "goos: linux\nBenchmarkA-4 100 10 ns/op\nBenchmarkB-4 100 ns/op\n",
    )
    .unwrap();
    std::fs::write(dir.join("good.txt"), "BenchmarkC-4 100 10 ns/op\n").unwrap();
    let o = perfwatch(
        &app,
        &dir,
        &[
            "submit",
            "--format",
            "go",
            "--project",
            "p",
            "--commit",
            "abcd",
            "good.txt",
            "bad.txt",
        ],
        &[],
    )
    .await;
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("bad.txt: go: line 3: expected"), "{err}");
    assert_eq!(runs_stored(&app).await, 0);
}

#[tokio::test]
async fn run_streams_the_command_output_and_submits_it() {
    let app = app_with_project("p").await;
    let dir = temp_dir("run");
    let file = fixture("go/generated_go1.19_bench_benchmem_count3.txt");
    let cat = format!("cat '{file}'; echo 'noise on stderr' >&2");
    let o = perfwatch(
        &app,
        &dir,
        &[
            "run",
            "--project",
            "p",
            "--branch",
            "main",
            "--commit",
            &sha(1),
            "--",
            "sh",
            "-c",
            &cat,
        ],
        &[],
    )
    .await;
    let out = assert_ok(&o);
    let (_, err) = text(&o);
    assert!(
        out.contains("BenchmarkFib/n=10-2"),
        "the output is streamed: {out}"
    );
    assert!(err.contains("noise on stderr"), "{err}");
    assert!(
        out.contains("submitted run") && out.contains("11 series"),
        "{out}"
    );
    let run = get(
        &app,
        &format!(
            "/api/v1/runs/{}",
            run_id(out.split("submitted").nth(1).unwrap())
        ),
    )
    .await;
    assert_eq!(run["measurements"].as_array().unwrap().len(), 11);
    assert_eq!(run["metadata"]["command"], format!("sh -c {cat}"));

    // A failing command submits nothing and passes its status on.
    let fail = format!("cat '{file}'; exit 3");
    let o = perfwatch(
        &app,
        &dir,
        &[
            "run",
            "--project",
            "p",
            "--commit",
            &sha(2),
            "--",
            "sh",
            "-c",
            &fail,
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).1.contains("nothing submitted"));
    assert_eq!(runs_stored(&app).await, 1);
    // … unless asked to.
    let o = perfwatch(
        &app,
        &dir,
        &[
            "run",
            "--submit-on-failure",
            "--project",
            "p",
            "--commit",
            &sha(2),
            "--",
            "sh",
            "-c",
            &fail,
        ],
        &[],
    )
    .await;
    assert_ok(&o);
    assert_eq!(runs_stored(&app).await, 2);
}

#[tokio::test]
async fn git_repository_fills_commit_sha_parent_message_and_time() {
    let app = app_with_project("p").await;
    let repo = git_repo("gitinfo");
    git_commit(&repo, "speed up the parser", "2024-02-03T04:05:06Z");
    std::fs::write(repo.join("bench.txt"), go_output(100.0, 200.0)).unwrap();
    let o = perfwatch(&app, &repo, &["submit", "--project", "p", "bench.txt"], &[]).await;
    let out = assert_ok(&o);
    let run = get(&app, &format!("/api/v1/runs/{}", run_id(&out))).await;
    let head = git_out(&repo, &["rev-parse", "HEAD"]);
    let parent = git_out(&repo, &["rev-parse", "HEAD^"]);
    assert_eq!(run["branch"], "main");
    assert_eq!(run["commit"]["sha"], head);
    assert_eq!(run["commit"]["parent"], parent);
    assert_eq!(run["commit"]["message"], "speed up the parser");
    assert_eq!(run["commit"]["author"], "Ada Lovelace <ada@example.com>");
    let t = chrono::DateTime::parse_from_rfc3339("2024-02-03T04:05:06Z").unwrap();
    assert_eq!(run["commit"]["time"], t.timestamp_millis());
}

#[tokio::test]
async fn github_actions_variables_are_honoured() {
    let app = app_with_project("p").await;
    let dir = temp_dir("gha");
    std::fs::write(dir.join("bench.txt"), go_output(100.0, 200.0)).unwrap();
    let pr_sha = sha(77);
    let o = perfwatch(
        &app,
        &dir,
        &["submit", "--project", "p", "bench.txt"],
        &[
            ("GITHUB_SHA", pr_sha.as_str()),
            ("GITHUB_REF", "refs/pull/42/merge"),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_HEAD_REF", "feature/faster"),
            ("GITHUB_BASE_REF", "main"),
            ("GITHUB_RUN_ID", "9001"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "example/repo"),
        ],
    )
    .await;
    let out = assert_ok(&o);
    let run = get(&app, &format!("/api/v1/runs/{}", run_id(&out))).await;
    assert_eq!(run["branch"], "feature/faster");
    assert_eq!(run["commit"]["sha"], pr_sha);
    assert_eq!(run["metadata"]["pull_request"], 42);
    assert_eq!(run["metadata"]["base_branch"], "main");
    assert_eq!(
        run["metadata"]["ci_url"],
        "https://github.com/example/repo/actions/runs/9001"
    );
    assert_eq!(run["trigger"], "pull_request");
    assert!(run["run_key"].as_str().unwrap().starts_with("gha-9001-2-"));
}

#[tokio::test]
async fn fail_on_regression_gates_a_slower_branch_run() {
    let app = app_with_project("p").await;
    let repo = git_repo("gate");
    let bench = |a: f64| {
        std::fs::write(repo.join("bench.txt"), go_output(a, 500.0)).unwrap();
    };
    // Baseline on main.
    bench(100.0);
    let o = perfwatch(
        &app,
        &repo,
        &[
            "submit",
            "--project",
            "p",
            "--fail-on",
            "regression",
            "bench.txt",
        ],
        &[],
    )
    .await;
    let out = assert_ok(&o);
    assert!(out.contains("no results on main to compare with"), "{out}");

    // A branch commit on top of it that is 30 % slower: exit 1, the regression listed
    // in the digest's terminal text (as `compare --summary` and notifications say it).
    git(
        &repo,
        &["checkout", "-q", "-b", "feature"],
        "2024-01-02T10:00:00Z",
    );
    git_commit(&repo, "slower", "2024-01-02T10:00:00Z");
    bench(130.0);
    let o = perfwatch(
        &app,
        &repo,
        &[
            "submit",
            "--project",
            "p",
            "--fail-on",
            "regression",
            "bench.txt",
        ],
        &[],
    )
    .await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("1 regressions"), "{out}");
    assert!(out.contains("(parent of the head commit)"), "{out}");
    // The digest's links, under the server the CLI talked to.
    let run_link = format!("Run: {}/runs/{}", app.base, run_id(&out));
    assert!(out.contains(&run_link), "{out}");
    assert!(
        out.contains(&format!(
            "Compare: {}/projects/p/compare?base=commit:",
            app.base
        )),
        "{out}"
    );
    let line = out.lines().find(|l| l.contains("BenchmarkA")).expect(&out);
    assert!(line.contains("regression +30.00%"), "{line}");
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("BenchmarkB")),
        "{out}"
    );

    // The endpoint says the same.
    let verdict = get(&app, &format!("/api/v1/runs/{}/baseline", run_id(&out))).await;
    assert_eq!(verdict["summary"]["regressions"], 1);
    assert_eq!(verdict["base"]["rule"], "parent");
    assert_eq!(verdict["base"]["branch"], "main");

    // An unchanged commit after it (parent not on main: nearest earlier main commit).
    git_commit(&repo, "unchanged", "2024-01-03T10:00:00Z");
    bench(100.0);
    let o = perfwatch(
        &app,
        &repo,
        &[
            "submit",
            "--project",
            "p",
            "--fail-on",
            "regression",
            "bench.txt",
        ],
        &[],
    )
    .await;
    let out = assert_ok(&o);
    assert!(out.contains("0 regressions"), "{out}");
    assert!(
        out.contains("(newest main commit no later than the head commit)"),
        "{out}"
    );

    // `run` gates the same way.
    let cat = format!("cat '{}'", repo.join("bench.txt").display());
    bench(131.0);
    git_commit(&repo, "slower again", "2024-01-04T10:00:00Z");
    let o = perfwatch(
        &app,
        &repo,
        &[
            "run",
            "--project",
            "p",
            "--fail-on",
            "regression",
            "--",
            "sh",
            "-c",
            &cat,
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
}

#[tokio::test]
async fn baseline_of_a_main_run_is_the_previous_main_commit() {
    let app = app_with_project("p").await;
    let dir = temp_dir("main_base");
    for (i, a) in [(1, 100.0), (2, 100.0), (3, 150.0)] {
        std::fs::write(dir.join("bench.txt"), go_output(a, 500.0)).unwrap();
        let o = perfwatch(
            &app,
            &dir,
            &[
                "submit",
                "--project",
                "p",
                "--branch",
                "main",
                "--commit",
                &sha(i),
                "bench.txt",
            ],
            &[],
        )
        .await;
        assert_ok(&o);
    }
    let v = get(&app, "/api/v1/runs/3/baseline").await;
    assert_eq!(v["base"]["rule"], "previous_on_main");
    assert_eq!(v["base"]["commits"], json!([sha(2)]));
    assert_eq!(v["summary"]["regressions"], 1);
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    let v = get(&app, "/api/v1/runs/1/baseline").await;
    assert_eq!(v["summary"]["added"], 2);
}

#[tokio::test]
async fn import_submits_manifest_rows_in_order_once() {
    let app = app_with_project("p").await;
    let dir = temp_dir("import");
    for (i, a) in [100.0, 110.0, 120.0].iter().enumerate() {
        std::fs::write(dir.join(format!("r{i}.txt")), go_output(*a, 500.0)).unwrap();
    }
    let manifest = dir.join("manifest.csv");
    std::fs::write(
        &manifest,
        format!(
            "file,commit,branch,time\nr0.txt,{},main,2024-01-01T00:00:00Z\nr1.txt,{},main,2024-01-02\nr2.txt,{},main,1704326400\n",
            sha(11),
            sha(12),
            sha(13)
        ),
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    let d = dir.to_str().unwrap();
    let out = assert_ok(
        &perfwatch(
            &app,
            &dir,
            &["import", d, "--manifest", m, "--project", "p"],
            &[],
        )
        .await,
    );
    assert!(out.contains("3 new, 0 already stored"), "{out}");
    assert_eq!(runs_stored(&app).await, 3);
    let series = get(&app, "/api/v1/projects/p/series").await;
    let a = series
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["benchmark"] == "BenchmarkA")
        .unwrap();
    let points = get(&app, &format!("/api/v1/series/{}/points", a["id"])).await;
    let order: Vec<(i64, String)> = points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ord"].as_i64().unwrap(),
                p["sha"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(order, vec![(1, sha(11)), (2, sha(12)), (3, sha(13))]);

    let out = assert_ok(
        &perfwatch(
            &app,
            &dir,
            &["import", d, "--manifest", m, "--project", "p"],
            &[],
        )
        .await,
    );
    assert!(out.contains("0 new, 3 already stored"), "{out}");
    assert_eq!(runs_stored(&app).await, 3);
}

#[tokio::test]
async fn import_with_a_bad_row_submits_nothing() {
    let app = app_with_project("p").await;
    let dir = temp_dir("import_bad");
    std::fs::write(dir.join("r0.txt"), go_output(100.0, 500.0)).unwrap();
    std::fs::write(dir.join("bad.txt"), "BenchmarkA-4 100 ns/op\n").unwrap();
    let d = dir.to_str().unwrap();
    let cases = [
        ("file,commit,branch,time\nr0.txt,abcd,main,2024-01-01\nr0.txt,abce,main,soon\n", "row 2 (line 3), field 'time'"),
        ("file,commit,branch,time\nr0.txt,abcd,main,2024-01-01\nmissing.txt,abce,main,2024-01-02\n", "row 2 (line 3), field 'file'"),
        ("file,commit,branch,time,format\nr0.txt,abcd,main,2024-01-01,\nbad.txt,abce,main,2024-01-02,go\n", "bad.txt: go: line 1: expected"),
        ("[{\"file\":\"r0.txt\",\"commit\":\"xyz!\",\"branch\":\"main\",\"time\":\"2024-01-01\"}]", "row 1 ([0]), field 'commit'"),
    ];
    for (i, (manifest_text, expected)) in cases.iter().enumerate() {
        let manifest = dir.join(format!("m{i}"));
        std::fs::write(&manifest, manifest_text).unwrap();
        let o = perfwatch(
            &app,
            &dir,
            &[
                "import",
                d,
                "--manifest",
                manifest.to_str().unwrap(),
                "--project",
                "p",
            ],
            &[],
        )
        .await;
        let (_, err) = text(&o);
        assert!(!o.status.success(), "{manifest_text}");
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
    assert_eq!(runs_stored(&app).await, 0);
}
