//! Crash safety: the real `perfwatch serve` is killed with SIGKILL, 20 rounds on each
//! database, each round three times: (a) during a burst of concurrent submissions,
//! (b) during a detection pass, (c) while webhook deliveries are in flight. Kill
//! offsets are random from a fixed seed. After every restart:
//! - every acknowledged (2xx) run is stored exactly once, with its receipt's id, and
//!   submissions that got no answer are retried with the same key and stored once;
//! - every alert seen before the kill is still there, and detection completes (every
//!   changed series alerted);
//! - every delivery due (each row of the delivery log) reaches the receiver on
//!   127.0.0.1 and is logged as delivered: at least once, since a delivery cut off by
//!   the kill is sent again once its lease expires; duplicates are counted.
//!
//! The servers run with `--lease-ms 1000`, so a killed server's leases are taken over
//! within about a second. `PW_CRASH_ROUNDS` changes the number of rounds (default 20).
//! The figures are printed (`--nocapture`) and recorded in docs/benchmarks.md.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::store::NewProject;
use perfwatch_backend::testing::fresh_database as fresh;
use perfwatch_backend::Store;
use perfwatch_tests::procs::{build_server, perfwatch_bin, ServerProc};
use perfwatch_tests::webhook_receiver::Receiver;
use perfwatch_tests::{sha, Db};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// Series of a detection round; a third of them step at commit 10, 20 and 30 each.
const SERIES: usize = 60;
const COMMITS: u64 = 40;
const SUBSCRIPTIONS: usize = 3;

struct World {
    bin: PathBuf,
    url: String,
    /// The server's sealing key and data folder (never the working directory).
    tmp: PathBuf,
    store: Store,
    token: String,
    http: reqwest::Client,
    rx: Receiver,
    server: Option<ServerProc>,
    rng: ChaCha8Rng,
    /// Every run key sent to project `ing` and the id of its receipt.
    ingest_acked: HashMap<String, i64>,
    stats: Stats,
}

#[derive(Debug, Default)]
struct Stats {
    kills: usize,
    runs_acked: usize,
    runs_unanswered: usize,
    kills_in_pass: usize,
    alerts_seen_before_kill: usize,
    alerts: usize,
    groups: usize,
    deliveries: usize,
    kills_with_delivery_in_flight: usize,
    /// Alert groups whose `alert_group.created` deliveries were never queued.
    groups_never_announced: usize,
    duplicate_deliveries: usize,
}

impl World {
    fn base(&self) -> String {
        self.server.as_ref().expect("a running server").base.clone()
    }

    async fn start(&mut self) {
        let key = self.tmp.join("secret.key");
        let data = self.tmp.join("data");
        let s = ServerProc::start(
            &self.bin,
            &self.url,
            &[
                "--workers",
                "0",
                "--lease-ms",
                "1000",
                "--secret-key-file",
                key.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
        )
        .await
        .expect("the server starts");
        self.server = Some(s);
    }

    async fn kill_and_restart(&mut self) {
        self.server.take().expect("a running server").kill9().await;
        self.stats.kills += 1;
        self.start().await;
    }

    async fn post_run(&self, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        let r = self
            .http
            .post(format!("{}/api/v1/runs", self.base()))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn alerts(&self, project: &str) -> Vec<Value> {
        let r = self
            .http
            .get(format!("{}/api/v1/alerts?project={project}", self.base()))
            .send()
            .await
            .expect("alerts answer");
        assert_eq!(r.status(), 200);
        r.json::<Value>()
            .await
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn ingest_run(key: &str, commit: u64) -> Value {
    json!({
        "project": "ing", "branch": "main",
        "commit": {"sha": sha(commit)},
        "run_key": key,
        "results": (0..5).map(|b| json!({
            "benchmark": format!("B{b}"), "measure": "time", "unit": "ns/op",
            "samples": [100.0 + b as f64, 101.0 + b as f64, 99.5 + b as f64]
        })).collect::<Vec<_>>(),
    })
}

/// (a) Four clients submit runs back to back; SIGKILL after a random 30–400 ms.
/// Unanswered submissions are retried after the restart with the same key.
async fn kill_during_ingest(w: &mut World, round: u64) {
    let base = w.base();
    let offset = Duration::from_millis(w.rng.random_range(30..400));
    let unanswered = Arc::new(Mutex::new(Vec::new()));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for t in 0..4u64 {
        let (http, base, token) = (w.http.clone(), base.clone(), w.token.clone());
        let (unanswered, acked) = (unanswered.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let key = format!("a{round}-{t}-{i}");
                let body = ingest_run(&key, 1_000_000 + round * 10_000 + t * 1000 + i);
                let res = http
                    .post(format!("{base}/api/v1/runs"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                let answered = match res {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        match r.json::<Value>().await {
                            Ok(v) => {
                                assert_eq!(status, 201, "{key}: {v}");
                                acked
                                    .lock()
                                    .unwrap()
                                    .push((key.clone(), v["run_id"].as_i64().unwrap()));
                                true
                            }
                            // The answer was cut off by the kill: unknown outcome.
                            Err(_) => false,
                        }
                    }
                    Err(_) => false,
                };
                if !answered {
                    unanswered.lock().unwrap().push(key);
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(offset).await;
    w.kill_and_restart().await;
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let unanswered = unanswered.lock().unwrap().clone();
    w.stats.runs_acked += acked.len();
    w.stats.runs_unanswered += unanswered.len();
    for (k, id) in acked {
        w.ingest_acked.insert(k, id);
    }
    // A client retries what got no answer: stored once, whether or not it was before.
    for key in unanswered {
        let (t, i): (u64, u64) = {
            let mut p = key.trim_start_matches('a').split('-').skip(1);
            (
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().parse().unwrap(),
            )
        };
        let body = ingest_run(&key, 1_000_000 + round * 10_000 + t * 1000 + i);
        let (status, v) = w
            .post_run(&body)
            .await
            .expect("the restarted server answers");
        assert!(
            status == 201 || (status == 200 && v["duplicate"] == true),
            "retry of {key}: {status} {v}"
        );
        w.ingest_acked.insert(key, v["run_id"].as_i64().unwrap());
    }
    check_runs_once(w).await;
}

/// Every key sent to project `ing` is stored exactly once, under its receipt's id.
async fn check_runs_once(w: &World) {
    let stored: HashMap<String, (i64, i64)> =
        perfwatch_backend::testing::rows::run_keys(&w.store, "ing")
            .await
            .unwrap();
    assert_eq!(
        stored.len(),
        w.ingest_acked.len(),
        "runs stored vs keys sent"
    );
    for (k, id) in &w.ingest_acked {
        assert_eq!(stored.get(k), Some(&(1, *id)), "run {k}");
    }
}

/// The run of commit `c` of detection round project `p`: series whose group steps at
/// or before `c` are 25 % slower.
fn detection_run(p: &str, round: u64, c: u64) -> Value {
    json!({
        "project": p, "branch": "main",
        "commit": {"sha": sha(5_000_000 + round * 100 + c)},
        "run_key": format!("{p}-{c}"),
        "results": (0..SERIES).map(|k| {
            let step_at = 10 * (k as u64 % 3 + 1);
            let v = (100.0 + k as f64) * if c >= step_at { 1.25 } else { 1.0 };
            let j = (c % 3) as f64 * 0.001;
            json!({"benchmark": format!("S{k:02}"), "measure": "time", "unit": "ns/op",
                   "samples": [v * (0.998 + j), v * (1.0 + j), v * (1.002 + j)]})
        }).collect::<Vec<_>>(),
    })
}

/// (b) A project with three webhook subscriptions gets 40 runs of 60 series; SIGKILL
/// at a random 0–150 ms into the detection pass. Then the pass is taken over.
async fn kill_during_detection(w: &mut World, round: u64) {
    let p = format!("det{round}");
    w.store
        .create_project(&NewProject {
            slug: p.clone(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    for j in 0..SUBSCRIPTIONS {
        let r = w
            .http
            .post(format!("{}/api/v1/projects/{p}/webhooks", w.base()))
            .bearer_auth(&w.token)
            .json(&json!({"url": format!("{}{round}-{j}", w.rx.base), "events": ["alert_group.created"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    for c in 1..=COMMITS {
        let (status, v) = w.post_run(&detection_run(&p, round, c)).await.unwrap();
        assert_eq!(status, 201, "{v}");
    }
    // Wait for the pass to start, then kill at a random point of it, watching alerts.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let leased = w.store.queue_jobs(JobState::Leased, 50).await.unwrap();
        if leased.iter().any(|j| j.kind == kinds::DETECT) {
            break;
        }
        assert!(Instant::now() < deadline, "no detection pass started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let until = Instant::now() + Duration::from_millis(w.rng.random_range(0..150));
    let mut seen = BTreeSet::new();
    while Instant::now() < until {
        for a in w.alerts(&p).await {
            seen.insert(a["id"].as_i64().unwrap());
        }
    }
    let leased = w.store.queue_jobs(JobState::Leased, 50).await.unwrap();
    if leased.iter().any(|j| j.kind == kinds::DETECT) {
        w.stats.kills_in_pass += 1;
    }
    w.kill_and_restart().await;
    w.stats.alerts_seen_before_kill += seen.len();

    // Detection completes after the restart: every series alerted, nothing seen lost.
    let deadline = Instant::now() + Duration::from_secs(60);
    let alerts = loop {
        let pending = w.store.queue_unfinished(&[kinds::DETECT]).await.unwrap();
        let alerts = w.alerts(&p).await;
        if pending == 0 && alerts.len() >= SERIES {
            break alerts;
        }
        if Instant::now() >= deadline {
            panic!(
                "{p}: detection did not complete after the restart ({} alerts, {pending} passes pending): {}",
                alerts.len(),
                unfinished_detections(&w.store).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ids: BTreeSet<i64> = alerts.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), SERIES, "{p}: one alert per changed series");
    assert!(
        seen.is_subset(&ids),
        "{p}: alerts seen before the kill {seen:?} lost: now {ids:?}"
    );
    w.stats.alerts += ids.len();
}

/// The alert groups of project `p`.
fn groups_of(alerts: &[Value]) -> BTreeSet<i64> {
    alerts
        .iter()
        .filter_map(|a| a["group_id"].as_i64())
        .collect()
}

/// The delivery log of project `p`: (delivery id, status).
async fn deliveries(w: &World, p: &str) -> Vec<(i64, String)> {
    let r = w
        .http
        .get(format!("{}/api/v1/projects/{p}/deliveries", w.base()))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_i64().unwrap(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// (c) The detection round's deliveries (groups × subscriptions) go to a receiver that
/// answers after 150 ms; SIGKILL a random 0–500 ms after the first one arrives. Every
/// delivery due reaches the receiver (at least once) and is logged as delivered.
/// Every alert group must also have had its deliveries queued (a pass killed before
/// announcing leaves its groups to the next pass).
async fn kill_during_delivery(w: &mut World, round: u64) {
    let p = format!("det{round}");
    let mine = |w: &World| {
        w.rx.hits()
            .into_iter()
            .filter(|h| h.sub.starts_with(&format!("{round}-")))
            .collect::<Vec<_>>()
    };
    let groups = groups_of(&w.alerts(&p).await);
    let due = deliveries(w, &p).await;
    let unannounced = groups.len() * SUBSCRIPTIONS - due.len();
    w.stats.groups += groups.len();
    w.stats.groups_never_announced += unannounced / SUBSCRIPTIONS;
    assert!(
        unannounced == 0,
        "{p}: {} alert groups, {} deliveries queued for {SUBSCRIPTIONS} subscriptions",
        groups.len(),
        due.len()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !due.is_empty() && mine(w).is_empty() {
        assert!(Instant::now() < deadline, "{p}: no delivery within 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(w.rng.random_range(0..500))).await;
    if mine(w).len() < due.len() {
        w.stats.kills_with_delivery_in_flight += 1;
    }
    w.kill_and_restart().await;

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = deliveries(w, &p).await;
        let got: BTreeSet<i64> = mine(w).iter().map(|h| h.delivery).collect();
        let done = log
            .iter()
            .all(|(id, status)| status == "delivered" && got.contains(id));
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{p}: deliveries not received or not logged as delivered after the restart: {log:?}, received {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hits = mine(w);
    let unique: BTreeSet<i64> = hits.iter().map(|h| h.delivery).collect();
    assert_eq!(
        unique.len(),
        due.len(),
        "{p}: only the deliveries due arrive"
    );
    for h in &hits {
        assert_eq!(h.event, "alert_group.created");
        assert!(groups.contains(&h.group_id.unwrap()), "{h:?}");
    }
    w.stats.deliveries += unique.len();
    w.stats.duplicate_deliveries += hits.len() - unique.len();
}

async fn crash_rounds(db: Db) {
    build_server();
    let rounds: u64 = std::env::var("PW_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let (url, sqlite_file) = fresh(db).await;
    let store = Store::connect(&url).await.unwrap();
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "crash", None)
        .await
        .unwrap();
    store
        .create_project(&NewProject {
            slug: "ing".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let mut w = World {
        bin: perfwatch_bin().unwrap(),
        url,
        tmp: std::env::temp_dir().join(format!("pw-crash-{}-{db:?}", std::process::id())),
        store,
        token,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        rx: Receiver::start(Duration::from_millis(150)).await,
        server: None,
        rng: ChaCha8Rng::seed_from_u64(7 + db as u64),
        ingest_acked: HashMap::new(),
        stats: Stats::default(),
    };
    w.start().await;
    let t = Instant::now();
    for round in 0..rounds {
        let t = Instant::now();
        kill_during_ingest(&mut w, round).await;
        eprintln!("round {round}: ingest phase {:?}", t.elapsed());
        let t = Instant::now();
        kill_during_detection(&mut w, round).await;
        eprintln!("round {round}: detection phase {:?}", t.elapsed());
        let t = Instant::now();
        kill_during_delivery(&mut w, round).await;
        eprintln!("round {round}: delivery phase {:?}", t.elapsed());
    }
    eprintln!(
        "crash safety {db:?}: {rounds} rounds in {:.0} s: {:?}",
        t.elapsed().as_secs_f64(),
        w.stats
    );
    w.server.take().unwrap().kill9().await;
    w.store.close().await;
    let _ = std::fs::remove_dir_all(&w.tmp);
    if let Some(f) = sqlite_file {
        for suffix in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_run_alert_or_delivery_sqlite() {
    crash_rounds(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_run_alert_or_delivery_postgres() {
    crash_rounds(Db::Postgres).await;
}

/// The detection jobs still queued or leased, with what the queue knows of them: a
/// failure message then says whether a pass kept failing (and why) or was never taken over.
async fn unfinished_detections(store: &Store) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut out = format!("now {now}");
    for state in [JobState::Queued, JobState::Leased] {
        for j in store.queue_jobs(state, 50).await.unwrap() {
            if j.kind == kinds::DETECT {
                out.push_str(&format!(
                    "; job {} {:?} attempts {}/{} takeovers {} not_before {} lease_expires_at {:?} heartbeat_at {:?} last_error {:?}",
                    j.id, j.state, j.attempts, j.max_attempts, j.takeovers, j.not_before,
                    j.lease_expires_at, j.heartbeat_at, j.last_error
                ));
            }
        }
    }
    out
}
