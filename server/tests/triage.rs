//! Triage over HTTP on SQLite and PostgreSQL: the rights matrix over every mutating
//! REST route, sessions and CSRF, the workflow with history, tickets, learning from
//! invalid alerts, and webhooks delivered to a receiver on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use perfwatch_backend::accounts::{Right, Role};
use perfwatch_server::api::auth::MUTATING_ROUTES;
use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, TestApp,
};
use reqwest::header;
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    db, multi_thread:
    rights_matrix_refuses_who_may_not_on_every_mutating_route,
    workflow_changes_are_recorded_with_who_when_from_to,
);

#[derive(Clone, Debug)]
enum Who {
    Anonymous,
    Bearer(String),
    Session(String),
}

struct T {
    app: TestApp,
    c: reqwest::Client,
}

impl T {
    async fn req(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.app.base);
        let mut r = self
            .c
            .request(method.parse().unwrap(), url)
            .header(header::ORIGIN, &self.app.base);
        match who {
            Who::Anonymous => {}
            Who::Bearer(t) => r = r.bearer_auth(t),
            Who::Session(s) => r = r.header(header::COOKIE, format!("pw_session={s}")),
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

async fn setup(db: Db, tweak: impl FnOnce(&mut perfwatch_server::ServerConfig)) -> T {
    let app = spawn_app_with(db, tweak).await;
    create_rights_projects(&app.store).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    T { app, c }
}

/// 40 commits: `insert` steps from 100 to 120 ns at commit 21. Returns the group id.
async fn step(t: &T, project: &str) -> i64 {
    let who = Who::Bearer(t.app.token.clone());
    for i in 1..=40u64 {
        let wiggle = (i % 3) as f64 * 0.3;
        let v = if i < 21 { 100.0 } else { 120.0 } + wiggle;
        let run = json!({
            "project": project,
            "commit": {"sha": format!("{:040x}", 0xfeed00 + i), "message": format!("change {i}")},
            "results": [{"benchmark": "insert", "measure": "time", "unit": "ns", "direction": "lower", "samples": [v]}],
        });
        let (s, b) = t.req(&who, "POST", "/api/v1/runs", Some(run)).await;
        assert_eq!(s, 201, "{b}");
    }
    let (_, alerts) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/alerts?project={project}"),
            None,
        )
        .await;
    alerts[0]["group_id"].as_i64().expect("an alert group")
}

/// A concrete request for each entry of `MUTATING_ROUTES`.
fn request_for(method: &str, route: &str, gid: i64, aid: i64, sid: i64) -> (String, Option<Value>) {
    let run = json!({"project": "drv", "commit": {"sha": "ab".repeat(20)},
        "results": [{"benchmark": "b", "measure": "time", "unit": "ns", "direction": "lower", "samples": [1.0]}]});
    let body = match (method, route) {
        ("POST", "/runs") => Some(run),
        ("POST", "/projects") => Some(json!({"slug": format!("p{}", rand_tag())})),
        ("POST", "/projects/{slug}/compare/short") => {
            Some(json!({"query": "base=branch:main&head=branch:main"}))
        }
        ("POST", "/annotations") => Some(
            json!({"project": "drv", "kind": "release", "label": "v1", "at": "2024-01-01T00:00:00Z"}),
        ),
        ("POST", "/projects/{slug}/detect") => None,
        ("POST", "/projects/{slug}/thresholds") => {
            Some(json!({"rule": {"kind": "static", "max": 1e9}}))
        }
        ("DELETE", "/thresholds/{id}") => None,
        ("POST", "/alert-groups/{id}/state") => Some(json!({"state": "acknowledged"})),
        ("POST", "/alert-groups/{id}/assignee") => Some(json!({"assignee": "ana"})),
        ("POST", "/alert-groups/{id}/notes") => Some(json!({"body": "looking"})),
        ("POST", "/alert-groups/{id}/ticket") => {
            Some(json!({"key": "PERF-1", "url": "https://issues.example/PERF-1"}))
        }
        ("POST", "/alerts/{id}/state") => Some(json!({"state": "acknowledged"})),
        ("POST", "/alerts/bulk-state") => Some(json!({"ids": [aid], "state": "acknowledged"})),
        ("DELETE", "/series/{id}/sensitivity") => None,
        ("PUT", "/projects/{slug}/ticket-template") => {
            Some(json!({"kind": "github", "base_url": "https://github.com/example/driver"}))
        }
        ("POST", "/projects/{slug}/webhooks") => {
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["alert_group.created"]}))
        }
        ("DELETE", "/webhooks/{id}") => None,
        ("POST", "/tokens") => Some(json!({"name": "x", "scopes": "ingest"})),
        ("DELETE", "/tokens/{id}") => None,
        ("POST", "/users") => {
            Some(json!({"name": format!("u{}", rand_tag()), "password": "long enough pw"}))
        }
        ("POST", "/users/{name}/memberships") => Some(json!({"role": "viewer"})),
        ("POST", "/admin/jobs/{id}/requeue") => None,
        ("PUT", "/projects/{slug}/github") => Some(
            json!({"repo": format!("example/r{}", rand_tag()), "webhook_secret": "0123456789abcdef0", "reconcile_every_s": 0}),
        ),
        ("POST", "/projects/{slug}/jobs") => Some(json!({"commit": "ab".repeat(20)})),
        ("POST", "/jobs/{id}/cancel") | ("POST", "/jobs/{id}/rerun") => None,
        ("PUT", "/projects/{slug}/metric-sources/{name}") => Some(json!({
            "config": "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = \"up\"\n"
        })),
        ("POST", "/projects/{slug}/metric-sources/{name}/test-query") => {
            Some(json!({"query": "sum(up)", "window": "hour"}))
        }
        ("POST", "/runs/{id}/metrics") => Some(json!({"source": "viewer"})),
        ("PUT", "/projects/{slug}/metric-sources/{name}/schedule") => {
            Some(json!({"query": "up", "step_s": 60, "from": "2026-01-01T00:00:00Z"}))
        }
        ("PUT", "/projects/{slug}/holidays") => {
            Some(json!({"holidays": [{"date": "2026-12-25", "name": "Christmas"}]}))
        }
        other => panic!("the rights matrix does not know {other:?}: add it"),
    };
    let id = if route.starts_with("/alert-groups") {
        gid
    } else if route.starts_with("/alerts/") {
        aid
    } else if route.starts_with("/series") {
        sid
    } else {
        999_999
    };
    let path = route
        .replace("{slug}", "drv")
        .replace("{id}", &id.to_string())
        // Not one of the matrix's actors: a role change ends the user's sessions.
        .replace("{name}", "bystander");
    (format!("/api/v1{path}"), body)
}

fn rand_tag() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

fn refused(s: u16) -> bool {
    s == 401 || s == 403
}

async fn rights_matrix_refuses_who_may_not_on_every_mutating_route(db: Db) {
    let t = setup(db, |_| {}).await;
    let gid = step(&t, "drv").await;
    let g = t.app.store.alert_group(gid).await.unwrap();
    let (aid, sid) = (g.alerts[0].id, g.alerts[0].series.id);
    let st = &t.app.store;
    create_role_users(st).await;
    perfwatch_backend::accounts::create_user(st, "bystander", "correct horse", None)
        .await
        .unwrap();
    let (_, ingest) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "ing", None, "ingest")
            .await
            .unwrap();
    let (_, triage_tok) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "tri", None, "triage")
            .await
            .unwrap();
    let actors: Vec<(&str, Who, &[Right])> = vec![
        ("anonymous", Who::Anonymous, &[]),
        ("viewer", Who::Session(t.app.login("viewer").await), &[]),
        (
            "triager",
            Who::Session(t.app.login("triager").await),
            &[Right::Triage],
        ),
        (
            "triager of another project",
            Who::Session(t.app.login("drvless").await),
            &[],
        ),
        (
            "admin",
            Who::Session(t.app.login("admin").await),
            &[Right::Ingest, Right::Triage, Right::Admin],
        ),
        ("ingest token", Who::Bearer(ingest), &[Right::Ingest]),
        ("triage token", Who::Bearer(triage_tok), &[Right::Triage]),
    ];
    for n in MUTATING_ROUTES {
        for (label, who, rights) in &actors {
            let (mut path, body) = request_for(n.method, n.path, gid, aid, sid);
            if n.path.starts_with("/jobs/{id}") {
                // A real job of this project each time, so the check is on its project.
                let project = st.project("drv").await.unwrap();
                let new = perfwatch_backend::store::perf_jobs::NewPerfJob {
                    project_id: project.id,
                    purpose: perfwatch_backend::store::perf_jobs::Purpose::Manual,
                    sha: "cd".repeat(20),
                    branch: None,
                    head_ref: None,
                    pr_number: None,
                    base_sha: None,
                    repeats: 0,
                    requested_by: "matrix".into(),
                };
                let (id, _) = st.perf_job_create(&new, true, 0).await.unwrap();
                path = path.replace("999999", &id.to_string());
            }
            if n.path == "/thresholds/{id}" {
                // A real rule of this project each time, so the check is on its project.
                let project = st.project("drv").await.unwrap();
                let rule = r#"{"kind":"static","max":1e9}"#;
                let id = st
                    .create_threshold_rule(project.id, None, None, rule)
                    .await
                    .unwrap();
                path = format!("/api/v1/thresholds/{id}");
            }
            let (s, b) = t.req(who, n.method, &path, body).await;
            let allowed = n.rights.iter().any(|r| rights.contains(r));
            assert_eq!(
                !refused(s),
                allowed,
                "{label} on {} {}: status {s} {b}",
                n.method,
                n.path
            );
            if matches!(who, Who::Anonymous) {
                assert_eq!(s, 401, "anonymous on {} {}", n.method, n.path);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_and_bad_logins_are_refused() {
    let t = setup(Db::Sqlite, |_| {}).await;
    let gid = step(&t, "drv").await;
    perfwatch_backend::accounts::create_user(
        &t.app.store,
        "admin",
        "correct horse",
        Some(Role::Admin),
    )
    .await
    .unwrap();
    let s = t.app.login("admin").await;
    let url = format!("{}/api/v1/alert-groups/{gid}/state", t.app.base);
    for (h, v) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let res =
            t.c.post(&url)
                .header(header::COOKIE, format!("pw_session={s}"))
                .header(h, v)
                .json(&json!({"state": "acknowledged"}))
                .send()
                .await
                .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{h}: {v}");
    }
    // A wrong password: back to the form, no cookie.
    let res =
        t.c.post(format!("{}/auth/login", t.app.base))
            .form(&[("name", "admin"), ("password", "wrong")])
            .send()
            .await
            .unwrap();
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert!(res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login?error=1"));
    // Logging out ends the session.
    let res =
        t.c.post(format!("{}/auth/logout", t.app.base))
            .header(header::COOKIE, format!("pw_session={s}"))
            .header(header::ORIGIN, &t.app.base)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let (st, _) = t
        .req(
            &Who::Session(s),
            "POST",
            &format!("/api/v1/alert-groups/{gid}/state"),
            Some(json!({"state": "fixed", "fixed_commit": "abc123"})),
        )
        .await;
    assert_eq!(st, 401);
    assert_eq!(
        t.app
            .store
            .alert_group(gid)
            .await
            .unwrap()
            .triage
            .state
            .as_str(),
        "untriaged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookie_when_configured() {
    let t = setup(Db::Sqlite, |c| c.secure_cookies = true).await;
    perfwatch_backend::accounts::create_user(&t.app.store, "ana", "correct horse", None)
        .await
        .unwrap();
    let res =
        t.c.post(format!("{}/auth/login", t.app.base))
            .form(&[("name", "ana"), ("password", "correct horse")])
            .send()
            .await
            .unwrap();
    assert!(res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("; Secure"));
}

async fn workflow_changes_are_recorded_with_who_when_from_to(db: Db) {
    let t = setup(db, |_| {}).await;
    let gid = step(&t, "drv").await;
    perfwatch_backend::accounts::create_user(
        &t.app.store,
        "tri",
        "correct horse",
        Some(Role::Triager),
    )
    .await
    .unwrap();
    let who = Who::Session(t.app.login("tri").await);
    let p = |s: &str| format!("/api/v1/alert-groups/{gid}/{s}");
    assert_eq!(
        t.req(
            &who,
            "POST",
            &p("state"),
            Some(json!({"state": "acknowledged"}))
        )
        .await
        .0,
        204
    );
    assert_eq!(
        t.req(
            &who,
            "POST",
            &p("assignee"),
            Some(json!({"assignee": "tri"}))
        )
        .await
        .0,
        204
    );
    assert_eq!(
        t.req(
            &who,
            "POST",
            &p("notes"),
            Some(json!({"body": "bisecting"}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        t.req(
            &who,
            "POST",
            &p("ticket"),
            Some(json!({"key": "PERF-7", "url": "https://issues.example/PERF-7"}))
        )
        .await
        .0,
        204
    );
    let (s, b) = t
        .req(&who, "POST", &p("state"), Some(json!({"state": "fixed"})))
        .await;
    assert_eq!(s, 422, "fixed needs the fixing commit: {b}");
    assert_eq!(b["error"]["fields"][0]["path"], "fixed_commit");
    assert_eq!(
        t.req(
            &who,
            "POST",
            &p("state"),
            Some(json!({"state": "fixed", "fixed_commit": "abc1234"}))
        )
        .await
        .0,
        204
    );
    let (_, g) = t
        .req(&who, "GET", &format!("/api/v1/alert-groups/{gid}"), None)
        .await;
    assert_eq!(g["triage"]["state"], "fixed");
    assert_eq!(g["triage"]["fixed_commit"], "abc1234");
    assert_eq!(g["triage"]["assignee"], "tri");
    assert_eq!(g["triage"]["ticket_key"], "PERF-7");
    assert_eq!(g["alerts"][0]["status"], "fixed");
    assert_eq!(g["notes"][0]["body"], "bisecting");
    let h: Vec<(String, String, String, String)> = g["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["field"].as_str().unwrap().into(),
                e["from"].as_str().unwrap_or("").into(),
                e["to"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want = [
        ("state", "untriaged", "acknowledged"),
        ("assignee", "", "tri"),
        ("note", "", "bisecting"),
        ("ticket", "", "PERF-7"),
        ("state", "acknowledged", "fixed (abc1234)"),
    ];
    assert_eq!(h.len(), want.len(), "{h:?}");
    for (got, (f, from, to)) in h.iter().zip(want) {
        assert_eq!(
            (
                got.0.as_str(),
                got.1.as_str(),
                got.2.as_str(),
                got.3.as_str()
            ),
            ("user:tri", f, from, to)
        );
        assert!(g["history"][0]["at"].as_i64().unwrap() > 0);
    }
    // Filters in the URL: state and assignee.
    let (_, l) = t
        .req(
            &who,
            "GET",
            "/api/v1/alerts?project=drv&state=fixed&assignee=tri",
            None,
        )
        .await;
    assert_eq!(l.as_array().unwrap().len(), 1, "{l}");
    let (_, l) = t
        .req(
            &who,
            "GET",
            "/api/v1/alerts?project=drv&state=untriaged",
            None,
        )
        .await;
    assert_eq!(l.as_array().unwrap().len(), 0, "{l}");
    // Bulk: back to untriaged; the group follows its alerts only when unset, so it stays fixed.
    let aid = g["alerts"][0]["id"].as_i64().unwrap();
    let (s, b) = t
        .req(
            &who,
            "POST",
            "/api/v1/alerts/bulk-state",
            Some(json!({"ids": [aid], "state": "expected"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let g = t.app.store.alert_group(gid).await.unwrap();
    assert_eq!(g.alerts[0].status, "expected");
    assert_eq!(g.triage.state.as_str(), "fixed");
    // The group page shows the history.
    let html =
        t.c.get(format!("{}/alerts/groups/{gid}", t.app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(
        html.contains("PERF-7") && html.contains("user:tri"),
        "group page shows ticket and history"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_alert_makes_its_series_less_sensitive_until_reset() {
    let t = setup(Db::Sqlite, |_| {}).await;
    let gid = step(&t, "drv").await;
    let who = Who::Bearer(t.app.token.clone());
    let g = t.app.store.alert_group(gid).await.unwrap();
    let (sid, change) = (g.alerts[0].series.id, g.alerts[0].relative_change);
    let (s, _) = t
        .req(
            &who,
            "POST",
            &format!("/api/v1/alert-groups/{gid}/state"),
            Some(json!({"state": "invalid"})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, l) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/series/{sid}/sensitivity"),
            None,
        )
        .await;
    let learned = l["learned"]["min_change"].as_f64().unwrap();
    assert!(learned > change.abs(), "{learned} vs {change}");
    let html =
        t.c.get(format!("{}/series/{sid}", t.app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(html.contains("Learned sensitivity"), "series page shows it");
    assert_eq!(
        t.req(
            &who,
            "DELETE",
            &format!("/api/v1/series/{sid}/sensitivity"),
            None
        )
        .await
        .0,
        204
    );
    let (_, l) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/series/{sid}/sensitivity"),
            None,
        )
        .await;
    assert!(l["learned"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_template_prefills_a_new_issue() {
    let t = setup(Db::Sqlite, |_| {}).await;
    let gid = step(&t, "drv").await;
    let who = Who::Bearer(t.app.token.clone());
    let (s, _) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/alert-groups/{gid}/new-ticket"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let tpl = json!({"kind": "github", "base_url": "https://github.com/example/driver"});
    assert_eq!(
        t.req(
            &who,
            "PUT",
            "/api/v1/projects/drv/ticket-template",
            Some(tpl)
        )
        .await
        .0,
        204
    );
    let (_, b) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/alert-groups/{gid}/new-ticket"),
            None,
        )
        .await;
    let url = b["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://github.com/example/driver/issues/new?title="),
        "{url}"
    );
    // The group page's "Open new issue" link: the same URL as a redirect.
    let res =
        t.c.get(format!(
            "{}/api/v1/alert-groups/{gid}/new-ticket?go=1",
            t.app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()[header::LOCATION].to_str().unwrap(), url);
    for part in [
        "regression",
        "insert",
        "confidence",
        "Suspect%20commits",
        "Compare%3A",
        "Triage%3A",
        "Chart%3A",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    let tpl = json!({"kind": "jira", "base_url": "https://example.atlassian.net", "jira_project": "10001"});
    assert_eq!(
        t.req(
            &who,
            "PUT",
            "/api/v1/projects/drv/ticket-template",
            Some(tpl)
        )
        .await
        .0,
        204
    );
    let (_, b) = t
        .req(
            &who,
            "GET",
            &format!("/api/v1/alert-groups/{gid}/new-ticket"),
            None,
        )
        .await;
    assert!(b["url"].as_str().unwrap().starts_with(
        "https://example.atlassian.net/secure/CreateIssueDetails!init.jspa?pid=10001"
    ));
}

#[derive(Default)]
struct Received {
    calls: usize,
    bodies: Vec<(String, String, Value)>,
}

/// A receiver on 127.0.0.1 that fails its first `fail_first` calls with 500.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Received>>) {
    use axum::http::{HeaderMap, StatusCode};
    let got = Arc::new(Mutex::new(Received::default()));
    let g2 = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let g = g2.clone();
            async move {
                let mut r = g.lock().unwrap();
                r.calls += 1;
                if r.calls <= fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let sig = headers["x-perfwatch-signature"]
                    .to_str()
                    .unwrap()
                    .to_string();
                let ev = headers["x-perfwatch-event"].to_str().unwrap().to_string();
                r.bodies.push((
                    ev,
                    sig,
                    serde_json::from_str(&body).unwrap_or(Value::String(body)),
                ));
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

async fn wait_for(got: &Arc<Mutex<Received>>, n: usize) {
    for _ in 0..100 {
        if got.lock().unwrap().bodies.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery arrived");
}

fn fast(c: &mut perfwatch_server::ServerConfig) {
    c.notify.poll = Duration::from_millis(50);
    c.notify.backoff = Duration::from_millis(100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_deliver_signed_actionable_messages_and_retry() {
    let t = setup(Db::Sqlite, fast).await;
    let who = Who::Bearer(t.app.token.clone());
    let (json_url, json_got) = receiver(1).await;
    let (slack_url, slack_got) = receiver(0).await;
    let (s, b) = t
        .req(&who, "POST", "/api/v1/projects/drv/webhooks", Some(json!({"url": json_url, "events": ["alert_group.created", "alert_group.state_changed"], "secret": "s3cret"})))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = t
        .req(
            &who,
            "POST",
            "/api/v1/projects/drv/webhooks",
            Some(json!({"url": slack_url, "format": "slack", "events": ["alert_group.created"]})),
        )
        .await;
    assert_eq!(s, 201);
    let gid = step(&t, "drv").await;
    wait_for(&json_got, 1).await;
    wait_for(&slack_got, 1).await;
    {
        let r = json_got.lock().unwrap();
        assert_eq!(r.calls, 2, "failed once, then delivered on retry");
        let (ev, sig, body) = &r.bodies[0];
        assert_eq!(ev, "alert_group.created");
        let raw = body.to_string();
        assert_eq!(
            sig,
            &format!(
                "sha256={}",
                perfwatch_backend::notify::hmac_sha256_hex(b"s3cret", raw.as_bytes())
            )
        );
        assert_eq!(body["project"], "drv");
        assert_eq!(body["alerts"][0]["benchmark"], "insert");
        assert!(body["alerts"][0]["change_pct"].as_f64().unwrap() > 15.0);
        assert!(body["alerts"][0]["confidence"].as_f64().unwrap() > 0.9);
        assert!(body["alerts"][0]["suspect_commits"][0]["url"]
            .as_str()
            .unwrap()
            .contains("/commit/"));
        assert!(body["summary"]["triage_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/alerts/groups/{gid}")));
        assert!(body["summary"]["compare_url"]
            .as_str()
            .unwrap()
            .contains("/compare?base=commit:"));
    }
    let text = slack_got.lock().unwrap().bodies[0].2["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("New alert group") && text.contains("insert") && text.contains("Triage:"),
        "{text}"
    );
    // A state change is heard by the subscriber of that event only.
    let (s, _) = t
        .req(
            &who,
            "POST",
            &format!("/api/v1/alert-groups/{gid}/state"),
            Some(json!({"state": "acknowledged"})),
        )
        .await;
    assert_eq!(s, 204);
    wait_for(&json_got, 2).await;
    assert_eq!(
        json_got.lock().unwrap().bodies[1].0,
        "alert_group.state_changed"
    );
    // The delivery log (admins only) shows both attempts of the first delivery.
    let (s, log) = t
        .req(&who, "GET", "/api/v1/projects/drv/deliveries", None)
        .await;
    assert_eq!(s, 200, "{log}");
    let first = log
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event"] == "alert_group.created" && d["attempts"] == 2)
        .expect("the retried delivery");
    assert_eq!(first["status"], "delivered");
    let (s, _) = t
        .req(
            &Who::Anonymous,
            "GET",
            "/api/v1/projects/drv/deliveries",
            None,
        )
        .await;
    assert_eq!(s, 403);
}
