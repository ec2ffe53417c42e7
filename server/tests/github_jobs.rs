//! The job system end to end, with real parts: a fake GitHub (a real HTTP server on
//! 127.0.0.1 that records every call), a real git repository made here with a tiny
//! service (python's http.server) and a Go-format bench script, the server with its
//! webhook inbox and outbox, and real `perfwatch worker` processes.
//!
//! - `github_flow_*` (both databases): bad signature → 401, nothing stored; replay →
//!   nothing new; push → master job → baseline runs; PR → job → compared with the
//!   master set → one status per job and exactly one sticky comment plus one mention
//!   when the verdict turns into a regression, even after a re-run by command and with
//!   GitHub failing (502) for a while; a stranger's command is refused politely.
//! - `killed_worker_job_completes_once` (SQLite): kill -9 of a worker mid-job → the
//!   job is re-leased after the lease expires and completes exactly once.
//! - `two_servers_two_workers_forty_jobs` (PostgreSQL): every job runs exactly once.
//! - `restarts_keep_the_inbox_and_the_outbox` (PostgreSQL): a delivery stored by a
//!   server that stopped before processing it is processed after the restart; reports
//!   that GitHub refused (502) before another restart arrive once it recovers.
//! - `reconciler_supersede_and_bad_definition` (SQLite): without any webhook the
//!   reconciler queues the master head and the open PR; a new head supersedes the
//!   running PR job within a poll; a broken `.perfwatch.toml` fails the job with the
//!   line and key, on the job and in the PR comment.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use perfwatch_backend::store::NewProject;
use perfwatch_github::fake::{payloads, FakeGitHub};
use perfwatch_github::PullInfo;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");
const REPO: &str = "acme/svc";
const SECRET: &str = "whsec-0123456789abcdef";
const GH_TOKEN: &str = "ghs_test_token";

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const DEFINITION: &str = r#"repeats = 2

[build]
command = "echo building $PERFWATCH_SHA"
timeout = "30s"

[service]
command = "exec python3 -m http.server $PORT --bind 127.0.0.1"
ready_url = "http://127.0.0.1:${PORT}/"

[load]
bench = "sh bench.sh"
format = "go"
timeout = "60s"
"#;

/// Prints five Go benchmark lines around the number in `speed`, after sleeping the
/// seconds in `delay`, and notes the commit in $RUNLOG when set.
const BENCH: &str = r#"n=$(cat speed)
sleep $(cat delay)
if [ -n "$RUNLOG" ]; then echo "$PERFWATCH_SHA" >> "$RUNLOG"; fi
i=0
while [ $i -lt 5 ]; do
  echo "BenchmarkWork-2   1000   $((n + i)) ns/op"
  i=$((i + 1))
done
"#;

struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn new(definition: &str) -> Repo {
        let dir = std::env::temp_dir().join(format!(
            "pw-gh-repo-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        run_git(&dir, &["init", "-q", "-b", "master"]);
        std::fs::write(dir.join(".perfwatch.toml"), definition).unwrap();
        std::fs::write(dir.join("bench.sh"), BENCH).unwrap();
        std::fs::write(dir.join("delay"), "0\n").unwrap();
        Repo { dir }
    }

    /// Commits `speed` (and `delay`) and returns the sha.
    fn commit(&self, speed: u32, delay: u32, msg: &str) -> String {
        std::fs::write(self.dir.join("speed"), format!("{speed}\n")).unwrap();
        std::fs::write(self.dir.join("delay"), format!("{delay}\n")).unwrap();
        run_git(&self.dir, &["add", "-A"]);
        run_git(&self.dir, &["commit", "-q", "-m", msg]);
        run_git(&self.dir, &["rev-parse", "HEAD"])
    }

    fn checkout(&self, args: &[&str]) {
        let mut a = vec!["checkout", "-q"];
        a.extend_from_slice(args);
        run_git(&self.dir, &a);
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).unwrap();
    hex::encode(r)
}

/// A `perfwatch worker` process; killed when dropped.
struct WorkerProc {
    child: Child,
    _dir: PathBuf,
}

async fn start_worker(db_url: &str, lease_ms: u64) -> WorkerProc {
    let dir = std::env::temp_dir().join(format!(
        "pw-worker-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let mut cmd = Command::new(BIN);
    cmd.args(["worker", "--database-url", db_url])
        .args(["--data-dir", dir.to_str().unwrap()])
        .args(["--lease-ms", &lease_ms.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("PW_TEST_WORKER_LOG").unwrap_or_else(|_| "warn".into()),
    );
    WorkerProc {
        child: cmd.spawn().expect("start perfwatch worker"),
        _dir: dir,
    }
}

async fn eventually<T>(what: &str, secs: u64, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

struct World {
    app: TestApp,
    fake: FakeGitHub,
    http: reqwest::Client,
}

impl World {
    async fn new(db: Db, repo: &Repo) -> World {
        World::with_reconcile(db, repo, 0).await
    }

    async fn with_reconcile(db: Db, repo: &Repo, reconcile_every_s: i64) -> World {
        World::with(db, repo, reconcile_every_s, Duration::ZERO).await
    }

    async fn with(db: Db, repo: &Repo, reconcile_every_s: i64, start_delay: Duration) -> World {
        let fake = FakeGitHub::start().await;
        fake.require_token(GH_TOKEN);
        let app = spawn_app_with(db, |c| {
            c.runner_slots = 0;
            c.worker_start_delay = start_delay;
        })
        .await;
        app.store
            .create_project(&NewProject {
                slug: "svc".into(),
                name: Some("svc".into()),
                main_branch: Some("master".into()),
                repo_url: None,
            })
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let r = http
            .put(format!("{}/api/v1/projects/svc/github", app.base))
            .bearer_auth(&app.token)
            .json(&json!({
                "repo": REPO,
                "webhook_secret": SECRET,
                "token": GH_TOKEN,
                "api_base": fake.url(),
                "clone_url": repo.dir.to_str().unwrap(),
                "master_branches": ["master"],
                "reconcile_every_s": reconcile_every_s,
            }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["webhook_secret_set"], true);
        assert!(
            !body.to_string().contains(SECRET),
            "the secret is never shown"
        );
        World { app, fake, http }
    }

    async fn webhook(&self, secret: &str, event: &str, delivery: &str, body: &Value) -> u16 {
        let bytes = serde_json::to_vec(body).unwrap();
        self.http
            .post(format!("{}/api/v1/github/webhook", self.app.base))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header(
                "X-Hub-Signature-256",
                perfwatch_github::signature::sign(secret.as_bytes(), &bytes),
            )
            .header("Content-Type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn jobs(&self) -> Vec<Value> {
        self.http
            .get(format!("{}/api/v1/projects/svc/jobs", self.app.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until job `id` has ended and returns it.
    async fn ended(&self, id: i64, secs: u64) -> Value {
        eventually(&format!("job {id} to end"), secs, async || {
            let j: Value = self
                .http
                .get(format!("{}/api/v1/jobs/{id}", self.app.base))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let state = j["job"]["state"].as_str()?.to_string();
            ["processed", "failed", "dead", "canceled", "superseded"]
                .contains(&state.as_str())
                .then_some(j)
        })
        .await
    }

    /// As [`World::ended`], but a timeout shows the job and its work item (state,
    /// attempts, lease, takeovers), so a stuck takeover can be told from a hung step.
    async fn ended_or_explain(&self, id: i64, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let j = self.job(id).await;
            let state = j["job"]["state"].as_str().unwrap_or("").to_string();
            if ["processed", "failed", "dead", "canceled", "superseded"].contains(&state.as_str()) {
                return j;
            }
            if Instant::now() >= deadline {
                let work = match j["job"]["work_id"].as_i64() {
                    Some(w) => format!("{:?}", self.app.store.queue_job(w).await),
                    None => "no work item".into(),
                };
                panic!("job {id} did not end in {secs} s: {j}\nwork item: {work}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn job(&self, id: i64) -> Value {
        match self
            .http
            .get(format!("{}/api/v1/jobs/{id}", self.app.base))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    async fn newest_job_id(&self, n: usize) -> i64 {
        eventually(&format!("{n} jobs"), 20, async || {
            let jobs = self.jobs().await;
            (jobs.len() >= n).then(|| jobs[0]["id"].as_i64().unwrap())
        })
        .await
    }
}

async fn github_flow(db: Db) {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    repo.checkout(&["-b", "feature"]);
    let b = repo.commit(1500, 0, "slower");
    repo.checkout(&["master"]);
    let w = World::new(db, &repo).await;
    let project = w.app.store.project("svc").await.unwrap().id;

    // A bad signature is refused and stores nothing.
    let push = payloads::push(REPO, "master", &"0".repeat(40), &a);
    assert_eq!(
        w.webhook("not-the-secret-at-all", "push", "d-bad", &push)
            .await,
        401
    );
    assert!(w
        .app
        .store
        .github_deliveries(project, 10)
        .await
        .unwrap()
        .is_empty());

    // A push to master makes one master job; a replay makes nothing.
    assert_eq!(w.webhook(SECRET, "push", "d-1", &push).await, 202);
    assert_eq!(w.webhook(SECRET, "push", "d-1", &push).await, 200);
    let master = w.newest_job_id(1).await;
    let worker = start_worker(&w.app.database_url, 5_000).await;
    let m = w.ended(master, 90).await;
    assert_eq!(m["job"]["state"], "processed", "{m}");
    assert_eq!(m["job"]["verdict"], "baseline");
    assert_eq!(
        m["job"]["run_ids"].as_array().unwrap().len(),
        2,
        "two repeats stored"
    );
    assert!(
        m["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["line"].as_str().unwrap_or("").contains("building")),
        "the build step's output is in the log: {m}"
    );
    assert_eq!(w.jobs().await.len(), 1, "the replay queued nothing");

    // A PR: compared with the master set.
    w.fake.set_pull(
        REPO,
        PullInfo {
            number: 5,
            state: "open".into(),
            head_sha: b.clone(),
            head_ref: "feature".into(),
            head_repo: Some(REPO.into()),
            base_ref: "master".into(),
            base_sha: a.clone(),
        },
    );
    let pr = payloads::pull_request(REPO, "opened", 5, &b, "feature", &a, Some(REPO));
    assert_eq!(w.webhook(SECRET, "pull_request", "d-2", &pr).await, 202);
    let first = w.newest_job_id(2).await;
    let j = w.ended(first, 90).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(j["job"]["verdict"], "regression", "{}", j["report"]);
    assert!(j["report"].as_str().unwrap().contains("BenchmarkWork"));

    // The outbox: a pending then a failure status on the head, one sticky comment and
    // one mention (the verdict turned into a regression).
    let comments = eventually("the sticky comment and the mention", 60, async || {
        let c = w.fake.comments(REPO, 5);
        (c.len() >= 2).then_some(c)
    })
    .await;
    assert!(perfwatch_github::comment::is_sticky(&comments[0].body));
    assert!(comments[0].body.contains("Slower"), "{}", comments[0].body);
    assert!(
        comments[0].body.contains("/chart.png") && comments[0].body.contains("compare?"),
        "chart images of the largest changes and the compare permalink: {}",
        comments[0].body
    );
    assert!(comments[1].body.contains("slower"), "{}", comments[1].body);
    let states: Vec<String> = eventually("the final status", 60, async || {
        let s: Vec<String> = w
            .fake
            .statuses(REPO, &b)
            .iter()
            .filter_map(|s| s["state"].as_str().map(str::to_string))
            .collect();
        s.contains(&"failure".to_string()).then_some(s)
    })
    .await;
    assert!(states.contains(&"pending".to_string()), "{states:?}");

    // A collaborator's re-run while GitHub answers 502 twice (reading the PR's head
    // and the reports are retried): a new job, the same comment edited, no second
    // mention.
    w.fake.fail_next(2, 502);
    let cmd = payloads::issue_comment(REPO, 5, "/perfwatch rerun", "grace", "COLLABORATOR");
    assert_eq!(w.webhook(SECRET, "issue_comment", "d-3", &cmd).await, 202);
    let second = eventually("the re-run job", 20, async || {
        let id = w.jobs().await[0]["id"].as_i64()?;
        (id != first).then_some(id)
    })
    .await;
    let j2 = w.ended(second, 90).await;
    assert_eq!(j2["job"]["verdict"], "regression");
    let edited = eventually("the sticky comment edited for the re-run", 60, async || {
        let c = w.fake.comments(REPO, 5);
        c[0].body.contains(&format!("job {second}")).then_some(c)
    })
    .await;
    assert_eq!(edited.len(), 2, "still one sticky comment and one mention");

    // A stranger's command is refused politely and runs nothing.
    let n_jobs = w.jobs().await.len();
    let stranger = payloads::issue_comment(REPO, 5, "/perfwatch run", "mallory", "NONE");
    assert_eq!(
        w.webhook(SECRET, "issue_comment", "d-4", &stranger).await,
        202
    );
    let c = eventually("the refusal", 30, async || {
        let c = w.fake.comments(REPO, 5);
        (c.len() == 3).then_some(c)
    })
    .await;
    assert!(c[2].body.contains("only maintainers"), "{}", c[2].body);
    assert_eq!(w.jobs().await.len(), n_jobs);

    // `/perfwatch compare <sha>`: the head against exactly that commit, on this PR.
    let cmd = payloads::issue_comment(
        REPO,
        5,
        &format!("/perfwatch compare {a}"),
        "grace",
        "MEMBER",
    );
    assert_eq!(w.webhook(SECRET, "issue_comment", "d-5", &cmd).await, 202);
    let third = eventually("the compare job", 20, async || {
        let j = w.jobs().await;
        (j.len() > n_jobs).then(|| j[0]["id"].as_i64()).flatten()
    })
    .await;
    let j3 = w.ended(third, 90).await;
    assert_eq!(j3["job"]["purpose"], "manual");
    assert_eq!(j3["job"]["base_sha"], a.as_str());
    assert_eq!(j3["job"]["verdict"], "regression", "{}", j3["report"]);

    // A PR's head queued by hand, without a base: compared at its merge-base with the
    // master branch, like a PR job from a webhook.
    let r: Value = w
        .http
        .post(format!("{}/api/v1/projects/svc/jobs", w.app.base))
        .bearer_auth(&w.app.token)
        .json(&json!({ "commit": b, "pr": 5 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let j4 = w.ended(r["id"].as_i64().expect("a job id"), 90).await;
    assert_eq!(j4["job"]["purpose"], "pr");
    assert_eq!(
        j4["job"]["base_sha"],
        a.as_str(),
        "the merge-base with master"
    );
    assert_eq!(j4["job"]["verdict"], "regression", "{}", j4["report"]);
    drop(worker);
}

perfwatch_backend::on_both!(db, worker_threads = 4: github_flow);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_worker_job_completes_once() {
    let repo = Repo::new(DEFINITION);
    let runlog = std::env::temp_dir().join(format!("pw-runlog-{}", rand_suffix()));
    // Two repeats of 3 s each: long enough to kill the worker in the middle.
    let definition = DEFINITION.replace(
        "bench = \"sh bench.sh\"",
        &format!(
            "bench = \"sh bench.sh\"\nenv = {{ RUNLOG = \"{}\" }}",
            runlog.display()
        ),
    );
    std::fs::write(repo.dir.join(".perfwatch.toml"), &definition).unwrap();
    let a = repo.commit(1000, 3, "slow bench");
    let w = World::new(Db::Sqlite, &repo).await;
    let r: Value = w
        .http
        .post(format!("{}/api/v1/projects/svc/jobs", w.app.base))
        .bearer_auth(&w.app.token)
        .json(&json!({ "commit": a }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["id"].as_i64().expect("a job id");
    let mut first = start_worker(&w.app.database_url, 2_000).await;
    eventually("the first worker to be in the load step", 60, async || {
        std::fs::read_to_string(&runlog)
            .ok()
            .filter(|t| !t.is_empty())
    })
    .await;
    first.child.start_kill().unwrap();
    let _ = first.child.wait().await;
    let _second = start_worker(&w.app.database_url, 2_000).await;
    let j = w.ended_or_explain(id, 120).await;
    assert_eq!(j["job"]["state"], "processed", "{j}");
    assert_eq!(
        j["job"]["run_ids"].as_array().unwrap().len(),
        2,
        "stored once: two repeats"
    );
    let work = w
        .app
        .store
        .queue_job(j["job"]["work_id"].as_i64().unwrap())
        .await
        .unwrap();
    assert!(
        work.takeovers >= 1,
        "the second worker took the lease over: {work:?}"
    );
    let runs = w.app.store.perf_job(id).await.unwrap().run_ids;
    assert_eq!(runs.len(), 2);
    let _ = std::fs::remove_file(&runlog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_two_workers_forty_jobs() {
    let repo = Repo::new(&DEFINITION.replace("repeats = 2", "repeats = 1"));
    let runlog = std::env::temp_dir().join(format!("pw-runlog40-{}", rand_suffix()));
    let definition = DEFINITION.replace("repeats = 2", "repeats = 1").replace(
        "bench = \"sh bench.sh\"",
        &format!(
            "bench = \"sh bench.sh\"\nenv = {{ RUNLOG = \"{}\" }}",
            runlog.display()
        ),
    );
    std::fs::write(repo.dir.join(".perfwatch.toml"), &definition).unwrap();
    let shas: Vec<String> = (0..40)
        .map(|i| repo.commit(1000 + i, 0, &format!("c{i}")))
        .collect();
    let w = World::new(Db::Postgres, &repo).await;
    // Two jobs of the project may run at once (one per worker).
    let r = w
        .http
        .put(format!("{}/api/v1/projects/svc/github", w.app.base))
        .bearer_auth(&w.app.token)
        .json(&json!({ "repo": REPO, "concurrency": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A second server on the same database.
    let second =
        perfwatch_server::testing::spawn_on(&w.app.database_url, |c| c.runner_slots = 0).await;
    let servers = [w.app.base.clone(), second.base.clone()];
    for (i, sha) in shas.iter().enumerate() {
        let r = w
            .http
            .post(format!("{}/api/v1/projects/svc/jobs", servers[i % 2]))
            .bearer_auth(&w.app.token)
            .json(&json!({ "commit": sha }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let _w1 = start_worker(&w.app.database_url, 5_000).await;
    let _w2 = start_worker(&w.app.database_url, 5_000).await;
    eventually("all 40 jobs processed", 240, async || {
        let jobs = w.jobs().await;
        (jobs.len() == 40 && jobs.iter().all(|j| j["state"] == "processed")).then_some(())
    })
    .await;
    let log = std::fs::read_to_string(&runlog).unwrap();
    let mut seen: Vec<&str> = log.lines().collect();
    seen.sort_unstable();
    let mut want: Vec<&str> = shas.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(seen, want, "every commit measured exactly once");
    let _ = std::fs::remove_file(&runlog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconciler_supersede_and_bad_definition() {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    repo.checkout(&["-b", "feature"]);
    let b = repo.commit(1000, 30, "a slow one");
    std::fs::write(
        repo.dir.join(".perfwatch.toml"),
        "repeats = 1\n[load]\nbench = \"sh bench.sh\"\nwarmup = 3\n",
    )
    .unwrap();
    let c = repo.commit(1000, 0, "broken definition");
    repo.checkout(&["master"]);
    let w = World::with_reconcile(Db::Sqlite, &repo, 1).await;
    w.fake.set_branch(REPO, "master", &a);
    let pull = |head: &str| PullInfo {
        number: 8,
        state: "open".into(),
        head_sha: head.to_string(),
        head_ref: "feature".into(),
        head_repo: Some(REPO.into()),
        base_ref: "master".into(),
        base_sha: a.clone(),
    };
    w.fake.set_pull(REPO, pull(&b));
    let _worker = start_worker(&w.app.database_url, 3_000).await;
    // No webhook at all: the reconciler finds the master head and the PR's head.
    let jobs = eventually("the reconciler's jobs", 30, async || {
        let j = w.jobs().await;
        (j.len() >= 2).then_some(j)
    })
    .await;
    let pr_job = jobs.iter().find(|j| j["pr_number"] == 8).expect("a PR job");
    assert!(jobs
        .iter()
        .any(|j| j["sha"] == a.as_str() && j["purpose"] == "master"));
    assert_eq!(pr_job["requested_by"], "reconciler");
    let first = pr_job["id"].as_i64().unwrap();
    eventually("the PR job to be in its load step", 60, async || {
        let j: Value = w
            .http
            .get(format!("{}/api/v1/jobs/{first}", w.app.base))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        j["log"]
            .as_array()?
            .iter()
            .any(|l| l["step"].as_str().unwrap_or("").starts_with("load"))
            .then_some(())
    })
    .await;
    // A new head supersedes the running job: it stops long before its 30 s sleep.
    w.fake.set_pull(REPO, pull(&c));
    let sync = payloads::pull_request(REPO, "synchronize", 8, &c, "feature", &a, Some(REPO));
    let pushed = Instant::now();
    assert_eq!(w.webhook(SECRET, "pull_request", "s-1", &sync).await, 202);
    let old = w.ended(first, 30).await;
    assert_eq!(old["job"]["state"], "superseded", "{old}");
    assert!(
        pushed.elapsed() < Duration::from_secs(15),
        "stopped within a poll, not after the sleep"
    );
    // The new head's definition is broken: the job fails with the line and the key.
    let second = eventually("the new head's job", 20, async || {
        let j = w.jobs().await;
        j.iter()
            .find(|j| j["sha"] == c.as_str())
            .and_then(|j| j["id"].as_i64())
    })
    .await;
    let failed = w.ended(second, 60).await;
    assert_eq!(failed["job"]["state"], "failed", "{failed}");
    let err = failed["job"]["error"].as_str().unwrap();
    assert!(err.contains("line 4") && err.contains("warmup"), "{err}");
    let comment = eventually("the PR comment with the error", 30, async || {
        w.fake
            .comments(REPO, 8)
            .into_iter()
            .find(|c| c.body.contains("warmup"))
    })
    .await;
    assert!(perfwatch_github::comment::is_sticky(&comment.body));
}

/// A master commit slower than the previous master set is not reported as a
/// regression at once: a confirmation job re-runs both commits together (ABAB) and its
/// verdict is the one on the commit's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn master_regression_is_confirmed_by_a_rerun_of_both_sides() {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    let b = repo.commit(1500, 0, "slower on master");
    let w = World::new(Db::Sqlite, &repo).await;
    let _worker = start_worker(&w.app.database_url, 5_000).await;
    let push_a = payloads::push(REPO, "master", &"0".repeat(40), &a);
    assert_eq!(w.webhook(SECRET, "push", "m-1", &push_a).await, 202);
    let first = w.newest_job_id(1).await;
    assert_eq!(w.ended(first, 90).await["job"]["verdict"], "baseline");
    let push_b = payloads::push(REPO, "master", &a, &b);
    assert_eq!(w.webhook(SECRET, "push", "m-2", &push_b).await, 202);
    let second = w.newest_job_id(2).await;
    let j = w.ended(second, 90).await;
    assert_eq!(
        j["job"]["verdict"], "unconfirmed regression",
        "{}",
        j["report"]
    );
    let confirm = eventually("the confirmation job", 20, async || {
        w.jobs()
            .await
            .into_iter()
            .find(|j| j["purpose"] == "confirm")
    })
    .await;
    assert_eq!(confirm["sha"], b.as_str());
    assert_eq!(confirm["base_sha"], a.as_str());
    let c = w.ended(confirm["id"].as_i64().unwrap(), 90).await;
    assert_eq!(c["job"]["verdict"], "regression", "{c}");
    assert_eq!(
        c["job"]["run_ids"].as_array().unwrap().len(),
        4,
        "both commits ran twice in the same job"
    );
    let last = eventually("the confirmed status on the commit", 60, async || {
        let s = w.fake.statuses(REPO, &b);
        let last = s.last()?["state"].as_str()?.to_string();
        (last == "failure").then_some(s)
    })
    .await;
    assert!(last.iter().all(|s| {
        s["state"] != "failure"
            || s["description"]
                .as_str()
                .unwrap_or("")
                .contains("regression")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_keep_the_inbox_and_the_outbox() {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    // The first server stores deliveries but processes nothing (its workers wait).
    let mut w = World::with(Db::Postgres, &repo, 0, Duration::from_secs(3_600)).await;
    let project = w.app.store.project("svc").await.unwrap().id;
    let push = payloads::push(REPO, "master", &"0".repeat(40), &a);
    assert_eq!(w.webhook(SECRET, "push", "r-1", &push).await, 202);
    let stored = w.app.store.github_deliveries(project, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].processed_at.is_none());
    assert!(w.jobs().await.is_empty());
    // Restart: the delivery is processed by the new server; GitHub is down meanwhile.
    let (url, token) = (w.app.database_url.clone(), w.app.token.clone());
    w.app = perfwatch_server::testing::spawn_on(&url, |c| c.runner_slots = 0).await;
    w.app.token = token.clone();
    w.fake.fail_next(1_000, 502);
    let _worker = start_worker(&url, 5_000).await;
    let id = w.newest_job_id(1).await;
    assert_eq!(w.ended(id, 90).await["job"]["verdict"], "baseline");
    eventually("a refused report waiting in the outbox", 30, async || {
        let queued = w
            .app
            .store
            .queue_jobs(perfwatch_backend::queue::JobState::Queued, 100)
            .await
            .ok()?;
        queued
            .iter()
            .any(|j| j.kind == "github.report" && j.attempts >= 1)
            .then_some(())
    })
    .await;
    // Restart again; GitHub recovers; the reports arrive.
    w.app = perfwatch_server::testing::spawn_on(&url, |c| c.runner_slots = 0).await;
    w.app.token = token;
    w.fake.fail_next(0, 502);
    let states = eventually("the statuses after the outage", 60, async || {
        let s: Vec<String> = w
            .fake
            .statuses(REPO, &a)
            .iter()
            .filter_map(|s| s["state"].as_str().map(str::to_string))
            .collect();
        s.contains(&"success".to_string()).then_some(s)
    })
    .await;
    assert!(!states.is_empty());
}

/// With a GitHub App instead of a token: installation tokens are minted from the App's
/// key, jobs report as check runs (in progress, then completed with the verdict), and
/// re-requesting the check run on GitHub runs its job again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn github_app_check_runs_and_rerequest() {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    let w = World::new(Db::Sqlite, &repo).await;
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../github/tests/data");
    let key = std::fs::read_to_string(format!("{data}/test_app_key.pem")).unwrap();
    let public = std::fs::read_to_string(format!("{data}/test_app_key.pub.pem")).unwrap();
    w.fake.set_app(4242, Some(&public));
    let r = w
        .http
        .put(format!("{}/api/v1/projects/svc/github", w.app.base))
        .bearer_auth(&w.app.token)
        .json(&json!({
            "repo": REPO, "app_id": 4242, "installation_id": 77,
            "app_private_key": key, "token": "",
        }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["reporting"], "app", "{v}");
    assert!(!v.to_string().contains("PRIVATE KEY"));
    let _worker = start_worker(&w.app.database_url, 5_000).await;
    let push = payloads::push(REPO, "master", &"0".repeat(40), &a);
    assert_eq!(w.webhook(SECRET, "push", "app-1", &push).await, 202);
    let first = w.newest_job_id(1).await;
    assert_eq!(w.ended(first, 90).await["job"]["verdict"], "baseline");
    let runs = eventually("a completed check run", 60, async || {
        let runs = w.fake.check_runs(REPO);
        runs.iter()
            .any(|r| r["status"] == "completed" && r["conclusion"] == "success")
            .then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), 1, "one check run, updated in place: {runs:?}");
    assert_eq!(runs[0]["external_id"], format!("perfwatch-job-{first}"));
    assert!(
        !w.fake.issued_tokens().is_empty(),
        "an installation token was minted"
    );
    let again = payloads::check_run_rerequested(REPO, &a, &format!("perfwatch-job-{first}"));
    assert_eq!(w.webhook(SECRET, "check_run", "app-2", &again).await, 202);
    let second = eventually("the re-run", 20, async || {
        let id = w.jobs().await[0]["id"].as_i64()?;
        (id != first).then_some(id)
    })
    .await;
    assert_eq!(w.ended(second, 90).await["job"]["state"], "processed");
}

/// GitHub's `release` (published) and `deployment_status` (success) events become
/// release and deploy markers of the project; a failed deployment marks nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_and_deployments_become_markers() {
    let repo = Repo::new(DEFINITION);
    let a = repo.commit(1000, 0, "base");
    let w = World::new(Db::Sqlite, &repo).await;
    let rel = payloads::release(REPO, "v2.0.0", "2026-12-01T10:00:00Z");
    assert_eq!(w.webhook(SECRET, "release", "rel-1", &rel).await, 202);
    let ok = payloads::deployment_status(REPO, &a, "production", "success", "2026-12-01T11:00:00Z");
    assert_eq!(
        w.webhook(SECRET, "deployment_status", "dep-1", &ok).await,
        202
    );
    let bad = payloads::deployment_status(REPO, &a, "staging", "failure", "2026-12-01T12:00:00Z");
    assert_eq!(
        w.webhook(SECRET, "deployment_status", "dep-2", &bad).await,
        202
    );
    let marks = eventually("the release and deploy markers", 30, async || {
        let v: Value = w
            .http
            .get(format!("{}/api/v1/projects/svc/annotations", w.app.base))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let list = v
            .as_array()
            .cloned()
            .or_else(|| v["annotations"].as_array().cloned())?;
        (list.len() >= 2).then_some(list)
    })
    .await;
    let text = serde_json::to_string(&marks).unwrap();
    assert!(
        text.contains("v2.0.0") && text.contains("production"),
        "{text}"
    );
    assert!(
        !text.contains("staging"),
        "a failed deployment is no marker: {text}"
    );
    assert_eq!(marks.len(), 2);
    // And from a deploy script, by the CLI.
    let out = tokio::process::Command::new(BIN)
        .args([
            "annotate",
            "deploy",
            "--version",
            "v2.0.1",
            "--project",
            "svc",
        ])
        .args(["--server", &w.app.base, "--token", &w.app.token])
        .env_remove("PERFWATCH_URL")
        .env_remove("PERFWATCH_TOKEN")
        .env_remove("PERFWATCH_PROJECT")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = w
        .http
        .get(format!("{}/api/v1/projects/svc/annotations", w.app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v.to_string().contains("v2.0.1"), "{v}");
}
