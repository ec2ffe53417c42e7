//! `cargo run --release -p perfwatch-tests --bin perfwatch-bench-jobs [-- --postgres URL]`
//!
//! The job system's figures, against the real server on 127.0.0.1 with one embedded
//! runner slot and a git repository made here:
//! 1. time from a push webhook's arrival to the job's first step with an idle runner
//!    (delivery `received_at` → first log line), median and max of 10 pushes;
//! 2. webhook acknowledgement latency (p50, p99, max) at 50 deliveries/s for 10 s while
//!    a job runs on the same server (a bench step sleeping through the measurement).
//!
//! Prints the figures; docs/benchmarks.md records them with this command.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use perfwatch_backend::store::NewProject;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use serde_json::{json, Value};

const REPO: &str = "acme/bench";
const SECRET: &str = "whsec-bench-0123456789";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "b")
        .env("GIT_AUTHOR_EMAIL", "b@example.com")
        .env("GIT_COMMITTER_NAME", "b")
        .env("GIT_COMMITTER_EMAIL", "b@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(dir: &Path, sleep_s: u32, n: usize) -> String {
    std::fs::write(
        dir.join(".perfwatch.toml"),
        format!(
            "[load]\nbench = \"sleep {sleep_s}; echo 'BenchmarkX-2 1000 {} ns/op'\"\nformat = \"go\"\n",
            1000 + n
        ),
    )
    .unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", &format!("c{n}")]);
    git(dir, &["rev-parse", "HEAD"])
}

async fn webhook(
    http: &reqwest::Client,
    app: &TestApp,
    event: &str,
    id: &str,
    body: &Value,
) -> Duration {
    let bytes = serde_json::to_vec(body).unwrap();
    let t = Instant::now();
    let r = http
        .post(format!("{}/api/v1/github/webhook", app.base))
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", id)
        .header(
            "X-Hub-Signature-256",
            perfwatch_github::signature::sign(SECRET.as_bytes(), &bytes),
        )
        .header("Content-Type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(r.status().is_success(), "webhook answered {}", r.status());
    took
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench(db: Db, label: &str) {
    let repo = std::env::temp_dir().join(format!("pw-bench-jobs-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "master"]);
    let data =
        std::env::temp_dir().join(format!("pw-bench-jobs-data-{}-{label}", std::process::id()));
    let data2 = data.clone();
    let app = spawn_app_with(db, move |c| {
        c.runner_slots = 1;
        c.data_dir = data2;
    })
    .await;
    app.store
        .create_project(&NewProject {
            slug: "bench".into(),
            name: None,
            main_branch: Some("master".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    let http = reqwest::Client::new();
    http.put(format!("{}/api/v1/projects/bench/github", app.base))
        .bearer_auth(&app.token)
        .json(&json!({
            "repo": REPO, "webhook_secret": SECRET, "clone_url": repo.to_str().unwrap(),
            "master_branches": ["master"], "reconcile_every_s": 0,
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let project = app.store.project("bench").await.unwrap().id;

    // 1. Push → first step, idle runner.
    let mut to_first = Vec::new();
    let mut before = "0".repeat(40);
    for n in 0..10 {
        let sha = commit(&repo, 0, n);
        let body = perfwatch_github::fake::payloads::push(REPO, "master", &before, &sha);
        before = sha.clone();
        let t = Instant::now();
        webhook(&http, &app, "push", &format!("p-{n}"), &body).await;
        let id = loop {
            let jobs = app
                .store
                .perf_jobs(Some(project), None, &[], 1)
                .await
                .unwrap();
            if let Some(j) = jobs.first().filter(|j| j.sha == sha) {
                break j.id;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        loop {
            if !app.store.perf_job_logs(id, 0, 1).await.unwrap().is_empty() {
                to_first.push(t.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        while !app.store.perf_job(id).await.unwrap().state.is_final() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    to_first.sort();
    println!(
        "{label}: push webhook → first step (idle runner): median {:.0} ms, max {:.0} ms (n = 10)",
        pct(&to_first, 0.5).as_secs_f64() * 1e3,
        to_first.last().unwrap().as_secs_f64() * 1e3
    );

    // 2. Acknowledgement latency at 50/s while a job runs.
    let sha = commit(&repo, 30, 99);
    let body = perfwatch_github::fake::payloads::push(REPO, "master", &before, &sha);
    webhook(&http, &app, "push", "long", &body).await;
    while app
        .store
        .perf_jobs(
            Some(project),
            None,
            &[perfwatch_backend::store::perf_jobs::PerfState::Running],
            1,
        )
        .await
        .unwrap()
        .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut tasks = Vec::new();
    for n in 0..500 {
        tick.tick().await;
        let (http, base) = (http.clone(), app.base.clone());
        // Pushes to a branch that is not a master branch: stored, processed, ignored.
        let body =
            perfwatch_github::fake::payloads::push(REPO, &format!("topic-{n}"), &before, &sha);
        tasks.push(tokio::spawn(async move {
            let bytes = serde_json::to_vec(&body).unwrap();
            let t = Instant::now();
            let r = http
                .post(format!("{base}/api/v1/github/webhook"))
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", format!("load-{n}"))
                .header(
                    "X-Hub-Signature-256",
                    perfwatch_github::signature::sign(SECRET.as_bytes(), &bytes),
                )
                .header("Content-Type", "application/json")
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            t.elapsed()
        }));
    }
    let mut acks = Vec::new();
    for t in tasks {
        acks.push(t.await.unwrap());
    }
    acks.sort();
    let running = !app
        .store
        .perf_jobs(
            Some(project),
            None,
            &[perfwatch_backend::store::perf_jobs::PerfState::Running],
            1,
        )
        .await
        .unwrap()
        .is_empty();
    println!(
        "{label}: webhook ack at 50/s for 10 s (job running throughout: {running}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n = 500)",
        pct(&acks, 0.5).as_secs_f64() * 1e3,
        pct(&acks, 0.99).as_secs_f64() * 1e3,
        acks.last().unwrap().as_secs_f64() * 1e3
    );
    drop(app);
    let _ = std::fs::remove_dir_all(&repo);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    bench(Db::Sqlite, "SQLite").await;
    if let Some(i) = args.iter().position(|a| a == "--postgres") {
        let url = args.get(i + 1).expect("--postgres URL");
        std::env::set_var("TEST_DATABASE_URL", url);
        bench(Db::Postgres, "PostgreSQL").await;
    }
}
