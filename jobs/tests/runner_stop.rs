//! Jobs that end early: a failing build, the job's timeout, a cancel. Each must stop
//! every process it started and remove its work dirs.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{commit, init_repo, Lines, SERVICE_PY};
use perfwatch_jobs::{run_job, JobError, JobSpec, StepError};
use tokio_util::sync::CancellationToken;

fn spec(tmp: &Path, repo: &Path, head: &str) -> JobSpec {
    JobSpec {
        repo_url: repo.display().to_string(),
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
async fn failing_build_is_permanent_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let def = "[build]\ncommand = \"echo compile error >&2; exit 2\"\n[load]\nbench = \"true\"\n";
    let head = commit(&repo, &[(".perfwatch.toml", def)], "broken");
    let e = run_job(
        &spec(tmp.path(), &repo, &head),
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, JobError::Step(StepError::Failed { exit_code: 2, tail, .. }) if tail.contains("compile error")),
        "{e}"
    );
    assert_eq!(e.step(), Some("build head"));
    assert!(e.is_permanent());
    assert!(empty(&tmp.path().join("work")));
}

#[tokio::test]
async fn job_timeout_and_cancel_stop_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let def = "timeout = \"1s\"\n[service]\ncommand = \"echo $$ > ../../svc.pid; exec python3 service.py\"\nready_port = 1\n[load]\nbench = \"sleep 1000\"\n";
    let def = def.replace(
        "ready_port = 1",
        "ready_url = \"http://127.0.0.1:${PORT}/\"",
    );
    let head = commit(
        &repo,
        &[(".perfwatch.toml", &def), ("service.py", SERVICE_PY)],
        "slow",
    );
    let s = spec(tmp.path(), &repo, &head);
    let started = Instant::now();
    let e = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, JobError::TimedOut), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let pid: i32 = std::fs::read_to_string(tmp.path().join("work").join("svc.pid"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        pid == 0 || common::gone_within(pid, 2000),
        "service {pid} survived the timeout"
    );

    let def = def.replace("timeout = \"1s\"", "timeout = \"10m\"");
    let head = commit(&repo, &[(".perfwatch.toml", &def)], "slow, long timeout");
    let s = spec(tmp.path(), &repo, &head);
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let e = run_job(&s, Arc::new(Lines::default()), None, cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, JobError::Canceled), "{e}");
    assert!(!e.is_permanent());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let pid: i32 = std::fs::read_to_string(tmp.path().join("work").join("svc.pid"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    assert!(pid > 0, "the service never started");
    assert!(
        common::gone_within(pid, 2000),
        "service {pid} survived the cancel"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("work"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "svc.pid")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn service_dying_mid_load_and_missing_metrics_make_runs_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    // The service is ready at once, then dies while the bench still runs.
    let def = "[service]\ncommand = \"python3 service.py & sleep 1; kill $!; exit 3\"\nready_url = \"http://127.0.0.1:${PORT}/\"\n[load]\nbench = \"sleep 2; echo 'BenchmarkZ 1 2 ns/op'\"\n[metrics]\nquery = \"up\"\n";
    let head = commit(
        &repo,
        &[(".perfwatch.toml", def), ("service.py", SERVICE_PY)],
        "flaky",
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
    assert_eq!(r.results.len(), 1, "{:?}", r.results);
    assert!(
        r.invalid
            .iter()
            .any(|i| i.contains("service exited (code 3)")),
        "{:?}",
        r.invalid
    );
    assert!(
        r.invalid.iter().any(|i| i.contains("no metrics collector")),
        "{:?}",
        r.invalid
    );
    let metrics_step = out.steps.iter().find(|s| s.step == "metrics").unwrap();
    assert_eq!(metrics_step.outcome, "failed");
}

#[tokio::test]
async fn unreachable_origin_is_transient() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("origin");
    init_repo(&repo);
    let head = commit(&repo, &[("a", "a")], "a");
    let mut s = spec(tmp.path(), &repo, &head);
    s.repo_url = tmp.path().join("no-such-repo").display().to_string();
    let e = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, JobError::Git(perfwatch_jobs::GitError::Command { .. })),
        "{e}"
    );
    assert!(!e.is_permanent());
    s.head_sha = "not-a-sha".into();
    let e = run_job(
        &s,
        Arc::new(Lines::default()),
        None,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(e.is_permanent(), "{e}");
}
