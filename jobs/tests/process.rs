//! Steps and services as real processes: output, exit codes, timeouts and cancels that
//! kill the whole process group (grandchildren included), readiness by port and URL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{alive, gone_within, Lines};
use perfwatch_jobs::{run_step, start_service, ServiceStep, Step, StepError, Stream};
use tokio_util::sync::CancellationToken;

fn step(command: &str, timeout_ms: u64) -> Step {
    Step {
        command: command.into(),
        timeout: Duration::from_millis(timeout_ms),
        env: BTreeMap::from([("GREETING".to_string(), "hello".to_string())]),
        workdir: None,
    }
}

fn read_pid(p: &std::path::Path) -> i32 {
    for _ in 0..100 {
        if let Ok(t) = std::fs::read_to_string(p) {
            if let Ok(n) = t.trim().parse() {
                return n;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no pid in {}", p.display());
}

#[tokio::test]
async fn streams_output_and_keeps_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Lines::default();
    let env = [("PORT".to_string(), "1234".to_string())];
    let run = run_step(
        "build",
        &step(
            "echo $GREETING $PORT; echo oops >&2; printf 'no newline'",
            5000,
        ),
        dir.path(),
        &env,
        &sink,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.stdout, "hello 1234\nno newline");
    let lines = sink.0.lock().unwrap();
    assert!(lines.contains(&("build".into(), Stream::Stdout, "hello 1234".into())));
    assert!(lines.contains(&("build".into(), Stream::Stderr, "oops".into())));
    assert!(lines.contains(&("build".into(), Stream::Stdout, "no newline".into())));
}

#[tokio::test]
async fn failure_carries_exit_code_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut s = step("pwd; echo broken >&2; exit 3", 5000);
    s.workdir = Some("sub".into());
    let e = run_step(
        "build",
        &s,
        dir.path(),
        &[],
        &Lines::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let StepError::Failed {
        step,
        exit_code,
        tail,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((step.as_str(), *exit_code), ("build", 3));
    assert!(tail.contains("broken") && tail.contains("/sub"), "{tail}");
    s.workdir = Some("missing".into());
    let e = run_step(
        "build",
        &s,
        dir.path(),
        &[],
        &Lines::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StepError::Spawn { .. }), "{e:?}");
}

#[tokio::test]
async fn timeout_kills_the_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("grandchild.pid");
    // The grandchild ignores nothing, but a plain kill of `sh` would leave it running.
    let cmd = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
    let started = Instant::now();
    let e = run_step(
        "load",
        &step(&cmd, 500),
        dir.path(),
        &[],
        &Lines::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StepError::TimedOut { .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let pid = read_pid(&pidfile);
    assert!(gone_within(pid, 2000), "grandchild {pid} still alive");
}

#[tokio::test]
async fn background_leftovers_die_with_a_finished_step() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("bg.pid");
    let cmd = format!(
        "(sleep 1000 >/dev/null 2>&1 &  echo $! > {}); echo done",
        pidfile.display()
    );
    let run = run_step(
        "build",
        &step(&cmd, 5000),
        dir.path(),
        &[],
        &Lines::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(run.stdout, "done\n");
    let pid = read_pid(&pidfile);
    assert!(gone_within(pid, 2000), "leftover {pid} still alive");
}

#[tokio::test]
async fn cancel_ends_the_step_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("gc.pid");
    let cmd = format!("sh -c 'sleep 1000 & echo $! > {}; wait'", pidfile.display());
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let e = run_step(
        "load",
        &step(&cmd, 60_000),
        dir.path(),
        &[],
        &Lines::default(),
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StepError::Canceled { .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1300),
        "{:?}",
        started.elapsed()
    );
    let pid = read_pid(&pidfile);
    assert!(gone_within(pid, 1000), "grandchild {pid} still alive");
}

fn service(command: &str) -> ServiceStep {
    ServiceStep {
        command: command.into(),
        ready_url: None,
        ready_port: None,
        ready_timeout: Duration::from_secs(10),
        stop_timeout: Duration::from_secs(2),
        env: BTreeMap::new(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn service_ready_by_url_and_stopped_by_group() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("service.py"), common::SERVICE_PY).unwrap();
    let port = free_port();
    let mut svc = service("python3 service.py");
    svc.ready_url = Some("http://127.0.0.1:${PORT}/health".into());
    let sink = Arc::new(Lines::default());
    let env = [("PORT".to_string(), port.to_string())];
    let h = start_service(
        &svc,
        dir.path(),
        &env,
        sink.clone(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let pid = h.pid() as i32;
    assert!(alive(pid));
    let body = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "ok");
    h.stop().await;
    assert!(gone_within(pid, 1000));
    assert!(sink.text().contains("listening"), "{}", sink.text());
}

#[tokio::test]
async fn service_ready_by_port_and_killed_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("service.py"), common::SERVICE_PY).unwrap();
    let port = free_port();
    let mut svc = service("exec python3 service.py");
    svc.ready_port = Some(port);
    let env = [("PORT".to_string(), port.to_string())];
    let h = start_service(
        &svc,
        dir.path(),
        &env,
        Arc::new(Lines::default()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(h.ready_after() < Duration::from_secs(10));
    let pid = h.pid() as i32;
    drop(h);
    assert!(gone_within(pid, 2000), "service {pid} survived its handle");
}

#[tokio::test]
async fn service_that_dies_before_ready_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut svc = service("echo 'cannot bind' >&2; exit 7");
    svc.ready_port = Some(free_port());
    let e = start_service(
        &svc,
        dir.path(),
        &[],
        Arc::new(Lines::default()),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let StepError::NotReady { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        reason.contains("exited with code 7") && reason.contains("cannot bind"),
        "{reason}"
    );
}

#[tokio::test]
async fn service_that_never_answers_times_out_and_dies() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("svc.pid");
    let mut svc = service(&format!("echo $$ > {}; sleep 1000", pidfile.display()));
    svc.ready_url = Some(format!("http://127.0.0.1:{}/", free_port()));
    svc.ready_timeout = Duration::from_millis(600);
    let started = Instant::now();
    let e = start_service(
        &svc,
        dir.path(),
        &[],
        Arc::new(Lines::default()),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    let StepError::NotReady { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(reason.contains("no answer after 600ms"), "{reason}");
    let pid = read_pid(&pidfile);
    assert!(gone_within(pid, 2000), "unready service {pid} left running");
}

#[tokio::test]
async fn stdout_is_capped_but_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Lines::default();
    let cmd = "head -c 9000000 /dev/zero | tr '\\0' 'a'; echo; echo end";
    let run = run_step(
        "bench",
        &step(cmd, 20_000),
        dir.path(),
        &[],
        &sink,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(run.stdout.len(), perfwatch_jobs::process::STDOUT_CAP);
    assert!(run.stdout_truncated);
    let lines = sink.0.lock().unwrap();
    assert!(lines.iter().all(|(_, _, t)| t.len() <= 64 * 1024));
    assert_eq!(lines.last().map(|l| l.2.as_str()), Some("end"));
}
