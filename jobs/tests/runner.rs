//! Whole jobs against a repository made by the test: a tiny Python HTTP service, a bench
//! command printing Go benchmark output, a loadgen scenario; ABAB order, fallback
//! definitions, failures, timeouts and cancels, and cleanup.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use common::{commit, init_repo, Lines, SERVICE_PY};
use perfwatch_core::model::ResultInput;
use perfwatch_jobs::Collected;
use perfwatch_jobs::{run_job, GitError, JobError, JobSpec, MetricsCollector, Side};
use tokio_util::sync::CancellationToken;

const DEFINITION: &str = r#"
repeats = 2
interleave = true
testbed = "ci-small"

[build]
command = "echo built-$PERFWATCH_SIDE > built.txt"

[service]
command = "exec python3 service.py"
ready_url = "http://127.0.0.1:${PORT}/health"
ready_timeout = "20s"

[load]
bench = "sh bench.sh"
format = "go"
timeout = "30s"

[metrics]
query = "process_resident_memory_bytes"
"#;

/// The bench checks the build ran and the service answers on $PORT, then prints one
/// Go benchmark line with the commit's own number.
fn bench_sh(ns: u32) -> String {
    format!(
        r#"set -e
test -f built.txt
python3 -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ['PORT']).read()"
echo "side=$PERFWATCH_SIDE repeat=$PERFWATCH_REPEAT sha=$PERFWATCH_SHA pid=$PERFWATCH_SERVICE_PID" >&2
printf 'BenchmarkX \t1000\t{ns} ns/op\n'
"#
    )
}

/// Records each window it is asked about and answers one sample.
#[derive(Default)]
struct FakeMetrics(Mutex<Vec<(DateTime<Utc>, DateTime<Utc>)>>);

impl MetricsCollector for FakeMetrics {
    fn collect<'a>(
        &'a self,
        table: &'a toml::Table,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Collected, String>> + Send + 'a>> {
        Box::pin(async move {
            self.0.lock().unwrap().push((start, end));
            Ok(Collected {
                results: vec![ResultInput {
                    benchmark: table["query"].as_str().unwrap_or("?").into(),
                    measure: "rss".into(),
                    unit: "B".into(),
                    samples: vec![1.0],
                    ..ResultInput::default()
                }],
                ..Collected::default()
            })
        })
    }
}

fn spec(tmp: &Path, repo: &Path, head: &str) -> JobSpec {
    JobSpec {
        repo_url: format!("file://{}", repo.display()),
        mirrors_dir: tmp.join("mirrors"),
        work_root: tmp.join("work"),
        head_sha: head.into(),
        base_sha: None,
        fallback_definition: None,
        repeats_override: None,
        force_interleave: false,
    }
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

#[tokio::test]
async fn interleaved_job_runs_both_sides_in_alternating_order() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let base = commit(
        &repo,
        &[
            (".perfwatch.toml", DEFINITION),
            ("service.py", SERVICE_PY),
            ("bench.sh", &bench_sh(2000)),
        ],
        "base",
    );
    let head = commit(&repo, &[("bench.sh", &bench_sh(1234))], "faster");
    let mut s = spec(tmp.path(), &repo, &head);
    s.base_sha = Some(base[..12].to_string());
    let sink = Arc::new(Lines::default());
    let metrics = Arc::new(FakeMetrics::default());
    let fut = run_job(
        &s,
        sink.clone(),
        Some(metrics.clone()),
        CancellationToken::new(),
    );
    fn is_send<T: Send>(_: &T) {}
    is_send(&fut);
    let out = fut.await.unwrap_or_else(|e| panic!("{e}\n{}", sink.text()));

    assert_eq!(out.repeats, 2);
    assert_eq!(out.testbed.as_deref(), Some("ci-small"));
    assert_eq!(
        out.definition_hash,
        perfwatch_jobs::parse(DEFINITION).unwrap().hash()
    );
    assert_eq!(out.definition_source, ".perfwatch.toml");
    let order: Vec<(Side, u32)> = out.runs.iter().map(|r| (r.side, r.repeat)).collect();
    assert_eq!(
        order,
        [
            (Side::Head, 0),
            (Side::Base, 0),
            (Side::Base, 1),
            (Side::Head, 1)
        ]
    );
    for r in &out.runs {
        let (sha, ns) = match r.side {
            Side::Head => (&head, 1234.0),
            Side::Base => (&base, 2000.0),
        };
        assert_eq!(&r.sha, sha);
        assert!(r.invalid.is_empty(), "{:?}", r.invalid);
        let x = r
            .results
            .iter()
            .find(|x| x.benchmark == "BenchmarkX")
            .unwrap();
        assert_eq!(x.samples, [ns]);
        assert!(r
            .results
            .iter()
            .any(|x| x.benchmark == "process_resident_memory_bytes"));
        assert!(r.started_at <= r.finished_at);
        assert_eq!(r.metadata["job_side"], r.side.as_str());
        let env_line = format!(
            "side={} repeat={} sha={sha} pid=",
            r.side.as_str(),
            r.repeat
        );
        assert!(
            sink.text().contains(&env_line),
            "{env_line}\n{}",
            sink.text()
        );
    }
    let windows = metrics.0.lock().unwrap().clone();
    let run_windows: Vec<_> = out
        .runs
        .iter()
        .map(|r| (r.started_at, r.finished_at))
        .collect();
    assert_eq!(windows, run_windows);
    let names: Vec<&str> = out.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(&names[..4], ["checkout", "checkout", "build", "build"]);
    assert_eq!(names.iter().filter(|n| **n == "load").count(), 4);
    assert!(
        out.steps.iter().all(|s| s.outcome == "ok"),
        "{:?}",
        out.steps
    );
    assert!(empty(&tmp.path().join("work")), "work dirs left behind");
    let json = serde_json::to_string(&out).unwrap();
    assert_eq!(
        serde_json::from_str::<perfwatch_jobs::JobOutput>(&json).unwrap(),
        out
    );
}

#[tokio::test]
async fn commit_without_definition_uses_the_fallback_or_fails_permanently() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let head = commit(&repo, &[("README", "no definition here")], "bare");
    let mut s = spec(tmp.path(), &repo, &head);
    s.repeats_override = Some(3);
    let e = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, JobError::Definition(d) if d.message.contains("no .perfwatch.toml")),
        "{e}"
    );
    assert!(e.is_permanent());

    s.fallback_definition =
        Some("[load]\nbench = \"printf 'BenchmarkY-2 10 5 ns/op\\n'\"\n".into());
    let out = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(out.definition_source, "fallback");
    assert_eq!(out.runs.len(), 3);
    assert!(out
        .runs
        .iter()
        .all(|r| r.side == Side::Head && r.sha == head));
    assert_eq!(out.runs[0].results[0].benchmark, "BenchmarkY");
    assert_eq!(out.runs[0].metadata["load_format"], "go");

    s.fallback_definition = Some("[load]\nbench = \"echo nothing to see\"\n".into());
    let out = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(out.runs.iter().all(|r| r.results.is_empty()
        && r.invalid
            .iter()
            .any(|i| i.contains("load produced no data"))));

    s.head_sha = "0123456789abcdef0123456789abcdef01234567".into();
    let e = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, JobError::Git(GitError::UnknownCommit(_))),
        "{e}"
    );
    assert!(e.is_permanent());
    assert!(empty(&tmp.path().join("work")));
}

const SCENARIO: &str = r#"
[run]
name = "tiny"
base_url = "http://127.0.0.1:${PORT}"
duration = "1s"

[load]
model = "open"
rate = "20/s"

[[flow]]
name = "root"
steps = [{ op = "get_root", method = "GET", path = "/" }]

[sut]
pid = ${PERFWATCH_SERVICE_PID}
"#;

#[tokio::test]
async fn scenario_load_against_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let def = "[service]\ncommand = \"exec python3 service.py\"\nready_url = \"http://127.0.0.1:${PORT}/\"\n\n[load]\nscenario = \"perf/tiny.toml\"\ntimeout = \"30s\"\n";
    let head = commit(
        &repo,
        &[
            (".perfwatch.toml", def),
            ("service.py", SERVICE_PY),
            ("perf/tiny.toml", SCENARIO),
        ],
        "scenario",
    );
    let sink = Arc::new(Lines::default());
    let out = run_job(
        &spec(tmp.path(), &repo, &head),
        sink.clone(),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", sink.text()));
    let r = &out.runs[0];
    assert!(
        r.results.iter().any(|x| x.benchmark.contains("get_root")),
        "{:?}",
        r.results
    );
    let window = r.finished_at - r.started_at;
    assert!(window >= chrono::Duration::milliseconds(900), "{window}");
    assert!(window < chrono::Duration::seconds(10), "{window}");
    assert!(r.metadata.contains_key("job_side"));
    println!("invalid: {:?}", r.invalid);
}
