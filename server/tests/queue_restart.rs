//! Background work survives the process: the real `perfwatch serve` binary is killed
//! (SIGKILL) after a burst of runs was stored but before detection ran; restarted on
//! the same database, it raises the alert. Then SIGTERM stops it within 10 s, giving
//! back the lease of the webhook delivery it was in the middle of.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::store::NewProject;
use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

perfwatch_backend::on_both!(db, multi_thread: follow_up_work_survives_a_killed_server);

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

struct Server {
    child: Child,
    base: String,
}

/// Starts `perfwatch serve` on a free port of 127.0.0.1 and waits for its address.
async fn start(url: &str, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--no-demo"])
        .args(["--database-url", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start perfwatch serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server starts within 30 s")
        .unwrap()
        .expect("the server prints its address");
    let base = line
        .strip_prefix("perfwatch listening on ")
        .expect("the address line")
        .to_string();
    // Keep reading stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, base }
}

/// A webhook receiver that accepts connections and never answers: a delivery to it
/// stays in flight until its timeout. Counts the connections.
async fn silent_receiver() -> (String, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    tokio::spawn(async move {
        let mut held = vec![];
        while let Ok((sock, _)) = l.accept().await {
            s.fetch_add(1, Ordering::SeqCst);
            held.push(sock);
        }
    });
    (url, seen)
}

async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn alerts(c: &reqwest::Client, base: &str) -> Vec<Value> {
    let res = c
        .get(format!("{base}/api/v1/alerts?project=drv"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn follow_up_work_survives_a_killed_server(db: Db) {
    let (url, sqlite_file) = fresh_database(db).await;
    let store = Store::connect(&url).await.unwrap();
    store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "t", None)
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let (hook, connections) = silent_receiver().await;

    // 1. Workers held back: runs are stored, their detection only queued.
    let mut first = start(&url, &[("PERFWATCH_WORKER_START_DELAY_MS", "3600000")]).await;
    let res = c
        .post(format!("{}/api/v1/projects/drv/webhooks", first.base))
        .bearer_auth(&token)
        .json(&json!({"url": hook, "events": ["alert_group.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    for i in 1..=30u64 {
        let v = if i > 15 { 125.0 } else { 100.0 } + (i % 3) as f64 * 0.5;
        let run = json!({
            "project": "drv", "branch": "main",
            "commit": {"sha": format!("{:040x}", 0xabc000 + i)},
            "results": [
                {"benchmark": "BenchmarkA", "measure": "time", "unit": "ns/op",
                 "samples": [v * 0.995, v, v * 1.005, v * 1.002, v * 0.998]},
                {"benchmark": "BenchmarkB", "measure": "time", "unit": "ns/op",
                 "samples": [50.0, 50.1, 49.9]},
            ],
        });
        let res = c
            .post(format!("{}/api/v1/runs", first.base))
            .bearer_auth(&token)
            .json(&run)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    assert!(alerts(&c, &first.base).await.is_empty());
    assert_eq!(
        store.queue_unfinished(&[kinds::DETECT]).await.unwrap(),
        1,
        "the burst of 30 runs coalesced into one detection job"
    );
    first.child.start_kill().unwrap(); // SIGKILL: no shutdown code runs.
    first.child.wait().await.unwrap();

    // 2. Restarted on the same database, the queued detection runs.
    let mut second = start(&url, &[]).await;
    let found = eventually("the alert after restart", async || {
        let a = alerts(&c, &second.base).await;
        (!a.is_empty()).then_some(a)
    })
    .await;
    let text = serde_json::to_string(&found).unwrap();
    assert!(
        text.contains("BenchmarkA") && !text.contains("BenchmarkB") && text.contains("regression"),
        "{text}"
    );

    // 3. The new alert group's delivery is in flight (the receiver never answers)…
    let job = eventually("the delivery in flight", async || {
        let leased = store.queue_jobs(JobState::Leased, 10).await.unwrap();
        let job = leased.into_iter().find(|j| j.kind == kinds::WEBHOOK)?;
        (connections.load(Ordering::SeqCst) > 0).then_some(job)
    })
    .await;
    // … when SIGTERM arrives: the server exits within 10 s and gives the lease back.
    let pid = second.child.id().unwrap().to_string();
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(10), second.child.wait())
        .await
        .expect("serve exits within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "clean exit, got {status}");
    eprintln!("SIGTERM to exit: {:?}", sent.elapsed());
    let after = store.queue_job(job.id).await.unwrap();
    assert_eq!(after.state, JobState::Queued, "{after:?}");
    assert_eq!(after.lease_owner, None);
    assert_eq!(after.attempts, 0, "the interrupted attempt is not counted");
    store.close().await;
    if let Some(f) = sqlite_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
    }
}
