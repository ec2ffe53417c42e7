//! `perfwatch load` end to end: the real binary loads a demo service (in this test
//! process) and submits to a real server on SQLite; two runs at two commits make a
//! trend, and `perfwatch compare` gives a verdict from their per-second samples.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use perfwatch_loadgen::demo::{serve, DemoConfig};
use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

perfwatch_backend::on_both!(db, multi_thread: thresholds_become_rules_and_a_later_breach_alerts);

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");
const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

async fn demo(latency: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        DemoConfig {
            latency,
            ..DemoConfig::default()
        },
    ));
    format!("http://{addr}")
}

fn scenario(dir: &std::path::Path, name: &str, base: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"[run]
name = "groups-ops"
base_url = "{base}"
duration = "5s"
warmup = "1s"
version_url = "/version"

[load]
model = "open"
rate = "20/s"

[[flow]]
name = "member_joins"
steps = [
  {{ op = "create_identity", method = "POST", path = "/identities", body = '{{"name":"u{{{{vu}}}}"}}', expect_status = [201], extract = {{ token = "token" }} }},
  {{ op = "create_group", method = "POST", path = "/groups", bearer = "{{{{token}}}}", expect_status = [201], extract = {{ gid = "id" }} }},
  {{ op = "add_member", method = "POST", path = "/groups/{{{{gid}}}}/members", bearer = "{{{{token}}}}", expect_status = [201], repeat = 2 }},
]

# A shared 2-core CI box lags the schedule past the 5 ms default now and then; these
# runs must stay valid (an invalid run is left out of trends and verdicts).
[validity]
max_lag_p99 = "100ms"
max_generator_cpu = "100%"
{extra}
"#
    );
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn perfwatch(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> Output {
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
    cmd.output().await.expect("run perfwatch")
}

fn show(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn get(app: &TestApp, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_load_runs_at_two_commits_make_a_trend_and_a_verdict() {
    let app = spawn_app(Db::Sqlite).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "slug": "groups" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let dir = std::env::temp_dir().join(format!("pw_cli_load_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fast = scenario(&dir, "fast.toml", &demo(Duration::from_millis(1)).await, "");
    // The second commit's service is 15 ms slower per request.
    let slow = scenario(
        &dir,
        "slow.toml",
        &demo(Duration::from_millis(16)).await,
        "",
    );
    let common = [
        "--submit",
        "--project",
        "groups",
        "--branch",
        "main",
        "--quiet",
    ];
    let a_args = [
        &[
            "load",
            fast.to_str().unwrap(),
            "--commit",
            A,
            "--release",
            "v1",
            "--out",
            "a.json",
        ][..],
        &common[..],
    ]
    .concat();
    let b_args = [
        &["load", slow.to_str().unwrap(), "--commit", B][..],
        &common[..],
    ]
    .concat();
    let (a, b) = tokio::join!(
        perfwatch(&app, &dir, &a_args),
        perfwatch(&app, &dir, &b_args)
    );
    assert!(a.status.success(), "{}", show(&a));
    assert!(b.status.success(), "{}", show(&b));
    let out = String::from_utf8_lossy(&a.stdout);
    assert!(
        out.contains("create_group") && out.contains("submitted run"),
        "{out}"
    );
    assert!(out.contains("release v1 marked"), "{out}");

    // the written file is the submitted native run
    let native: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("a.json")).unwrap()).unwrap();
    assert_eq!(native["project"], "groups");
    assert_eq!(native["commit"]["sha"], A);
    assert_eq!(native["metadata"]["harness"], "perfwatch-loadgen");
    assert!(native["metadata"]["service_version"]
        .as_str()
        .unwrap()
        .starts_with("demo-service"));
    assert_eq!(
        native["metadata"]["scenario_hash"].as_str().unwrap().len(),
        64
    );
    let p99 = native["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["benchmark"] == "create_group" && r["measure"] == "response_p99")
        .unwrap();
    assert_eq!(
        p99["samples"].as_array().unwrap().len(),
        5,
        "one sample per measured second"
    );

    // both runs are on the trend of create_group's response time
    let series = get(&app, "/api/v1/projects/groups/series").await;
    let id = series
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["benchmark"] == "create_group" && s["measure"] == "response_time")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let points = get(&app, &format!("/api/v1/series/{id}/points")).await;
    assert_eq!(points.as_array().unwrap().len(), 2, "{points}");

    // compare: the slower service is a regression, found from the interval samples
    let cmp = perfwatch(
        &app,
        &dir,
        &[
            "compare",
            &format!("commit:{A}"),
            &format!("commit:{B}"),
            "--project",
            "groups",
            "--server",
            &app.base,
            "--fail-on",
            "regression",
        ],
    )
    .await;
    let text = show(&cmp);
    assert_eq!(cmp.status.code(), Some(1), "{text}");
    assert!(
        text.contains("create_group") && text.contains("response_time"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breached_threshold_exits_99_and_a_bad_scenario_names_the_line() {
    let app = spawn_app(Db::Sqlite).await;
    let dir = std::env::temp_dir().join(format!("pw_cli_load_t_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = demo(Duration::from_millis(5)).await;
    let strict = scenario(
        &dir,
        "strict.toml",
        &base,
        "[thresholds]\n\"create_group.latency.p50\" = \"< 1ms\"\n",
    );
    let o = perfwatch(
        &app,
        &dir,
        &[
            "load",
            strict.to_str().unwrap(),
            "--quiet",
            "--out",
            "t.json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(99), "{}", show(&o));
    assert!(show(&o).contains("BREACHED"), "{}", show(&o));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("t.json")).unwrap()).unwrap();
    assert_eq!(written["metadata"]["thresholds"][0]["passed"], false);

    let bad = scenario(
        &dir,
        "bad.toml",
        &base.replace("127.0.0.1", "example.com"),
        "",
    );
    let o = perfwatch(&app, &dir, &["load", bad.to_str().unwrap(), "--quiet"]).await;
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml: line 3, key `run.base_url`") && err.contains("allow_hosts"),
        "{err}"
    );
}

/// The scenario's thresholds are stored as rules on the run's series; a later run that
/// breaches one raises a threshold alert. The runner's own numbers are series too.
async fn thresholds_become_rules_and_a_later_breach_alerts(db: Db) {
    let app = spawn_app(db).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/projects", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "slug": "groups" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let dir = std::env::temp_dir().join(format!("pw_cli_load_r_{}_{db:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let thresholds = "[thresholds]\n\"create_group.latency.p99\" = \"< 12ms\"\n\
                      \"*.error_rate\" = \"< 1%\"\n\"create_group.latency.p90\" = \"< 12ms\"\n";
    let fast = scenario(
        &dir,
        "fast.toml",
        &demo(Duration::from_millis(1)).await,
        thresholds,
    );
    let slow = scenario(
        &dir,
        "slow.toml",
        &demo(Duration::from_millis(20)).await,
        thresholds,
    );
    let run = |path: &PathBuf, sha: &str| {
        [
            "load",
            path.to_str().unwrap(),
            "--submit",
            "--project",
            "groups",
            "--branch",
            "main",
            "--commit",
            sha,
            "--quiet",
        ]
        .map(String::from)
    };
    let args = run(&fast, A);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = perfwatch(&app, &dir, &args).await;
    let text = show(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("threshold rule `create_group.latency.p99 < 12ms` stored on create_group · response_p99"),
        "{text}"
    );
    assert!(
        text.contains("not stored: `create_group.latency.p90`: only p50 and p99"),
        "{text}"
    );

    // One rule on create_group's p99 (12 ms in the series' ns), one error-rate rule per op.
    let series = get(&app, "/api/v1/projects/groups/series").await;
    let series = series.as_array().unwrap();
    let id_of = |b: &str, m: &str| {
        series
            .iter()
            .find(|s| s["benchmark"] == b && s["measure"] == m)
            .unwrap_or_else(|| panic!("series {b} {m}: {series:?}"))["id"]
            .as_i64()
            .unwrap()
    };
    let rules = get(&app, "/api/v1/projects/groups/thresholds").await;
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), 4, "{rules:?}");
    let p99 = id_of("create_group", "response_p99");
    let rule = rules.iter().find(|r| r["series_id"] == p99).unwrap();
    assert_eq!(rule["rule"], json!({"kind": "static", "max": 12e6}));

    // The runner's own numbers, so a noisy generator shows over time.
    for m in [
        "achieved_rate",
        "dropped_arrivals",
        "scheduling_lag_p99",
        "generator_cpu",
    ] {
        id_of("loadgen", m);
    }

    // A 20 ms service breaches the stored p99 rule: exit 99 from the run's own check,
    // and a threshold alert from the stored rule; the rules are not stored twice.
    let args = run(&slow, B);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = perfwatch(&app, &dir, &args).await;
    let text = show(&o);
    assert_eq!(o.status.code(), Some(99), "{text}");
    assert!(text.contains("already stored"), "{text}");
    let rules = get(&app, "/api/v1/projects/groups/thresholds").await;
    assert_eq!(rules.as_array().unwrap().len(), 4, "{rules}");
    let alerts = get(&app, "/api/v1/alerts?project=groups&kind=threshold").await;
    let hit = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["series"]["id"] == p99)
        .unwrap_or_else(|| panic!("a threshold alert on create_group p99: {alerts}"));
    assert_eq!(hit["first_bad"]["sha"], B, "{hit}");
}
