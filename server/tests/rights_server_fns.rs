//! The rights matrix over the server functions (`/fn/...`), on SQLite and PostgreSQL:
//! every registered server function is either a read (`fetch_*` or listed below) or
//! appears in [`MUTATING_FNS`] (a new mutating function missing from it fails this
//! test), and each mutating one is posted with each role, each token scope and no
//! login; who lacks the right is refused (401 anonymous, 403 otherwise) and nothing
//! changes, who has it succeeds.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::accounts::{Actor, Right, Role};
use perfwatch_core::alerts::TriageState;
use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, TestApp,
};
use reqwest::header;
use serde_json::json;

perfwatch_backend::on_both!(db, multi_thread: server_functions_refuse_who_may_not);

/// Server functions that only read (besides every `fetch_*`); anyone may call them
/// (the admin reads check the admin right themselves, tested below).
const READS: &[&str] = &[
    "/fn/series_sensitivity",
    "/fn/can_triage",
    "/fn/is_admin",
    "/fn/list_tokens",
    "/fn/list_deliveries",
    "/fn/jobs_queue",
    "/fn/job_page",
    "/fn/job_live",
    "/fn/project_jobs",
    "/fn/integration_page",
    // The account page (the visitor's own name and sessions) and the audit log
    // (global admins, checked below).
    "/fn/account",
    "/fn/audit_log",
];

/// Every mutating server function: its path, the right it needs, and whether it needs
/// that right on every project (global) rather than on the alert's project.
const MUTATING_FNS: &[(&str, Right, bool)] = &[
    ("/fn/reset_sensitivity", Right::Triage, false),
    ("/fn/set_group_state", Right::Triage, false),
    ("/fn/link_group_ticket", Right::Triage, false),
    ("/fn/set_group_assignee", Right::Triage, false),
    ("/fn/add_group_note", Right::Triage, false),
    ("/fn/bulk_alert_state", Right::Triage, false),
    // Threshold rules (series page): triager or admin of the series' project, or a
    // token with the triage scope.
    ("/fn/create_threshold", Right::Triage, false),
    ("/fn/delete_threshold", Right::Triage, false),
    // Performance jobs (job page): triagers of the job's project; the integration
    // settings: admins of the project.
    ("/fn/queue_perf_job", Right::Triage, false),
    ("/fn/cancel_perf_job", Right::Triage, false),
    ("/fn/rerun_perf_job", Right::Triage, false),
    ("/fn/save_integration", Right::Admin, false),
    // A short link of a comparison (compare page): triagers of the project, like
    // POST /api/v1/projects/{slug}/compare/short.
    ("/fn/create_short_link", Right::Triage, false),
    // "Test query" (metric sources page): calls the source with its stored
    // credentials, so admins of the project only, though it stores nothing.
    ("/fn/test_metric_query", Right::Admin, false),
    // "Save query" and "Delete" (metric sources page): admins of the project, like
    // PUT /api/v1/projects/{slug}/metric-sources/{name}.
    ("/fn/save_metric_query", Right::Admin, false),
    ("/fn/delete_metric_query", Right::Admin, false),
    ("/fn/create_token", Right::Admin, true),
    ("/fn/revoke_token", Right::Admin, true),
];

#[derive(Clone, Debug)]
enum Who {
    Anonymous,
    Bearer(String),
    Session(String),
}

struct Ids {
    gid: i64,
    aid: i64,
    sid: i64,
}

async fn body_for(app: &TestApp, path: &str, ids: &Ids, n: usize) -> String {
    let Ids { gid, aid, sid } = ids;
    match path {
        "/fn/reset_sensitivity" => {
            // Something to reset: marking the alert invalid teaches its series.
            if app.store.sensitivity(*sid).await.unwrap().is_none() {
                let admin = Actor::User(app.store.user_by_name("admin").await.unwrap());
                for s in [
                    TriageState::Untriaged,
                    TriageState::Invalid,
                    TriageState::Untriaged,
                ] {
                    perfwatch_backend::triage::set_alert_state(&app.store, &admin, *aid, s, None)
                        .await
                        .unwrap();
                }
                assert!(app.store.sensitivity(*sid).await.unwrap().is_some());
            }
            format!("id={sid}")
        }
        "/fn/set_group_state" => {
            let s = if n.is_multiple_of(2) {
                "acknowledged"
            } else {
                "untriaged"
            };
            format!("group_id={gid}&state={s}&fixed_commit=")
        }
        "/fn/link_group_ticket" => {
            format!("group_id={gid}&key=PERF-{n}&url=https%3A%2F%2Fissues.example%2FPERF-{n}")
        }
        "/fn/set_group_assignee" => format!("group_id={gid}&assignee=ana{n}"),
        "/fn/add_group_note" => format!("group_id={gid}&body=looking+{n}"),
        "/fn/bulk_alert_state" => {
            let s = if n.is_multiple_of(2) {
                "acknowledged"
            } else {
                "untriaged"
            };
            format!("ids={aid}&state={s}&fixed_commit=")
        }
        "/fn/create_threshold" => {
            format!(
                "series_id={sid}&scope=series&kind=static&min=&max={}",
                1000 + n
            )
        }
        "/fn/delete_threshold" => {
            let project = app.store.project("drv").await.unwrap();
            let id = app
                .store
                .create_threshold_rule(
                    project.id,
                    Some(*sid),
                    None,
                    &format!("{{\"kind\":\"static\",\"max\":{}}}", 2000 + n),
                )
                .await
                .unwrap();
            format!("id={id}&series_id={sid}")
        }
        "/fn/create_token" => format!("name=t{n}&project=&scopes=ingest"),
        // A new query each time (bench filter), so a refused call would add a row.
        "/fn/create_short_link" => format!("slug=drv&query=head%3Dbranch%3Amain%26bench%3Dx{n}"),
        "/fn/revoke_token" => {
            let (id, _) = perfwatch_backend::tokens::create_token_with_scopes(&app.store, &format!("victim{n}"), None, "ingest")
                .await
                .unwrap();
            format!("id={id}")
        }
        "/fn/cancel_perf_job" | "/fn/rerun_perf_job" => {
            let project = app.store.project("drv").await.unwrap();
            let new = perfwatch_backend::store::perf_jobs::NewPerfJob {
                project_id: project.id,
                purpose: perfwatch_backend::store::perf_jobs::Purpose::Manual,
                sha: format!("{n:040x}"),
                branch: None,
                head_ref: None,
                pr_number: None,
                base_sha: None,
                repeats: 0,
                requested_by: "matrix".into(),
            };
            let (id, _) = app.store.perf_job_create(&new, true, 0).await.unwrap();
            format!("id={id}")
        }
        "/fn/queue_perf_job" => {
            // Manual jobs need a linked repository.
            let project = app.store.project("drv").await.unwrap();
            if app.store.github_integration(project.id).await.unwrap().is_none() {
                let key = perfwatch_backend::secrets::SealKey::generate();
                let input = perfwatch_backend::perf::IntegrationInput {
                    repo: "example/driver".into(),
                    webhook_secret: Some("0123456789abcdef0".into()),
                    reconcile_every_s: Some(0),
                    ..Default::default()
                };
                perfwatch_backend::perf::integration::put(&app.store, &key, "drv", input)
                    .await
                    .unwrap();
            }
            format!("project=drv&commit={n:040x}&pr=")
        }
        "/fn/save_integration" => "slug=drv&repo=example%2Fdriver&webhook_secret=0123456789abcdef0&token=&app_id=&installation_id=&app_private_key=&api_base=&clone_url=&master_branches=&commanders=&definition=&concurrency=&reconcile_every_s=0".to_string(),
        "/fn/test_metric_query" => {
            // A source nothing listens on: the call answers with the source's error.
            let project = app.store.project("drv").await.unwrap();
            app.store
                .metric_source_put(
                    project.id,
                    "t",
                    "url = \"http://127.0.0.1:1\"\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = \"sum(up)\"\n",
                    None,
                    0,
                )
                .await
                .unwrap();
            "slug=drv&source=t&query=sum%28up%29&by=&window=hour".to_string()
        }
        "/fn/save_metric_query" => {
            metric_source_t(app, &["up"]).await;
            format!("slug=drv&source=t&name=q{n}&unit=count&direction=higher&query=sum%28up%29&by=&empty=&collect=window&step_s=&from=&timezone=")
        }
        "/fn/delete_metric_query" => {
            let gone = format!("d{n}");
            metric_source_t(app, &["up", &gone]).await;
            format!("slug=drv&source=t&name={gone}")
        }
        other => panic!("the server-function rights matrix does not know {other}: add it"),
    }
}

/// Source `t` of project `drv` with queries `names` (`sum(up)` each).
async fn metric_source_t(app: &TestApp, names: &[&str]) {
    let project = app.store.project("drv").await.unwrap();
    let mut config = "url = \"http://127.0.0.1:1\"\n".to_string();
    for n in names {
        config += &format!("[[query]]\nname = \"{n}\"\nunit = \"count\"\nquery = \"sum(up)\"\n");
    }
    app.store
        .metric_source_put(project.id, "t", &config, None, 0)
        .await
        .unwrap();
}

async fn post(
    c: &reqwest::Client,
    app: &TestApp,
    who: &Who,
    path: &str,
    body: String,
) -> (u16, String) {
    let mut r = c
        .post(format!("{}{path}", app.base))
        .header(header::ORIGIN, &app.base)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(body);
    match who {
        Who::Anonymous => {}
        Who::Bearer(t) => r = r.bearer_auth(t),
        Who::Session(s) => r = r.header(header::COOKIE, format!("pw_session={s}")),
    }
    let res = r.send().await.unwrap();
    let s = res.status().as_u16();
    (s, res.text().await.unwrap_or_default())
}

/// Projects `drv` and `other`; a step in `drv` so an alert group exists.
async fn setup(app: &TestApp) -> Ids {
    create_rights_projects(&app.store).await;
    let c = reqwest::Client::new();
    for i in 1..=40u64 {
        let v = if i < 21 { 100.0 } else { 120.0 } + (i % 3) as f64 * 0.3;
        let run = json!({
            "project": "drv",
            "commit": {"sha": format!("{:040x}", 0xfeed00 + i)},
            "results": [{"benchmark": "insert", "measure": "time", "unit": "ns", "direction": "lower", "samples": [v]}],
        });
        let res = c
            .post(format!("{}/api/v1/runs", app.base))
            .bearer_auth(&app.token)
            .json(&run)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let alerts: serde_json::Value = c
        .get(format!("{}/api/v1/alerts?project=drv", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gid = alerts[0]["group_id"].as_i64().expect("an alert group");
    let g = app.store.alert_group(gid).await.unwrap();
    Ids {
        gid,
        aid: g.alerts[0].id,
        sid: g.alerts[0].series.id,
    }
}

/// What the stored data looks like, to prove a refused call changed nothing.
async fn snapshot(app: &TestApp, ids: &Ids) -> String {
    let g = app.store.alert_group(ids.gid).await.unwrap();
    let learned = app.store.sensitivity(ids.sid).await.unwrap().is_some();
    let tokens = app.store.list_tokens().await.unwrap();
    let project = app.store.project("drv").await.unwrap();
    let rules = app.store.threshold_rules(project.id).await.unwrap();
    let short_links = app.store.short_link_count().await.unwrap();
    let sources: Vec<String> = app
        .store
        .metric_sources(project.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.config)
        .collect();
    format!(
        "{:?}|{learned}|{}|{}|{:?}|{:?}|{short_links}|{sources:?}",
        g.triage,
        g.history.len(),
        g.notes.len(),
        tokens
            .iter()
            .map(|t| (t.id, t.revoked_at.is_some()))
            .collect::<Vec<_>>(),
        rules.iter().map(|r| r.id).collect::<Vec<_>>()
    )
}

async fn server_functions_refuse_who_may_not(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let ids = setup(&app).await;
    let st = &app.store;
    create_role_users(st).await;
    let drv_admin = perfwatch_backend::accounts::create_user(st, "drvadmin", "correct horse", None)
        .await
        .unwrap();
    st.set_membership(drv_admin, Some("drv"), Role::Admin)
        .await
        .unwrap();
    let (_, ingest) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "ing", None, "ingest")
            .await
            .unwrap();
    let (_, triage) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "tri", None, "triage")
            .await
            .unwrap();
    let (_, admin_tok) =
        perfwatch_backend::tokens::create_token_with_scopes(st, "adm", None, "admin")
            .await
            .unwrap();
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // (label, who, rights on drv, global admin)
    let actors: Vec<(&str, Who, &[Right], bool)> = vec![
        ("anonymous", Who::Anonymous, &[], false),
        (
            "viewer",
            Who::Session(app.login("viewer").await),
            &[],
            false,
        ),
        (
            "triager",
            Who::Session(app.login("triager").await),
            &[Right::Triage],
            false,
        ),
        (
            "triager of another project",
            Who::Session(app.login("drvless").await),
            &[],
            false,
        ),
        (
            "admin of drv only",
            Who::Session(app.login("drvadmin").await),
            &[Right::Ingest, Right::Triage, Right::Admin],
            false,
        ),
        (
            "admin",
            Who::Session(app.login("admin").await),
            &[Right::Ingest, Right::Triage, Right::Admin],
            true,
        ),
        ("ingest token", Who::Bearer(ingest), &[Right::Ingest], false),
        ("triage token", Who::Bearer(triage), &[Right::Triage], false),
        ("admin token", Who::Bearer(admin_tok), &[Right::Admin], true),
    ];

    // Fail closed: every registered server function is classified.
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    for (p, _, _) in MUTATING_FNS {
        assert!(paths.contains(p), "{p} is not registered: {paths:?}");
    }
    for p in &paths {
        let read = p.starts_with("/fn/fetch_") || READS.contains(p);
        let mutating = MUTATING_FNS.iter().any(|(m, _, _)| m == p);
        assert!(
            read || mutating,
            "server function {p} is neither a read nor in MUTATING_FNS: add it to the matrix"
        );
    }

    let mut n = 0;
    for (path, right, global) in MUTATING_FNS {
        for (label, who, rights, global_admin) in &actors {
            n += 1;
            let allowed = if *global {
                *global_admin && (rights.contains(right) || *right == Right::Admin)
            } else {
                rights.contains(right)
            };
            let body = body_for(&app, path, &ids, n).await;
            let before = snapshot(&app, &ids).await;
            let (s, text) = post(&c, &app, who, path, body).await;
            if allowed {
                assert_eq!(s, 200, "{label} on {path}: {s} {text}");
            } else {
                let want = if matches!(who, Who::Anonymous) {
                    401
                } else {
                    403
                };
                assert_eq!(s, want, "{label} on {path} must be refused: {s} {text}");
                assert_eq!(
                    before,
                    snapshot(&app, &ids).await,
                    "{label} on {path} changed data"
                );
            }
        }
    }

    // Admin reads: only global admins list tokens; project admins read their project's
    // delivery log; everyone else is refused.
    for (label, who, rights, global_admin) in &actors {
        let (s, text) = post(&c, &app, who, "/fn/list_tokens", String::new()).await;
        let want = if *global_admin {
            200
        } else if matches!(who, Who::Anonymous) {
            401
        } else {
            403
        };
        assert_eq!(s, want, "{label} lists tokens: {text}");
        let (s, text) = post(&c, &app, who, "/fn/audit_log", String::new()).await;
        assert_eq!(s, want, "{label} reads the audit log: {text}");
        if *global_admin {
            assert!(text.contains("token.create"), "{text}");
        }
        let (s, text) = post(&c, &app, who, "/fn/list_deliveries", "project=drv".into()).await;
        let want = if rights.contains(&Right::Admin) {
            200
        } else if matches!(who, Who::Anonymous) {
            401
        } else {
            403
        };
        assert_eq!(s, want, "{label} reads the delivery log: {text}");
        // The saved queries (metric sources page) show internal URLs' queries: admins
        // of the project only.
        let (s, text) = post(&c, &app, who, "/fn/fetch_saved_queries", "slug=drv".into()).await;
        assert_eq!(s, want, "{label} reads the saved queries: {text}");
        if s == 200 {
            assert!(text.contains("sum(up)"), "{text}");
        }
    }

    // A cross-site post riding on an admin's cookie is refused before anything runs.
    let Who::Session(admin) = &actors[5].1 else {
        unreachable!()
    };
    for (h, v) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let before = snapshot(&app, &ids).await;
        let res = c
            .post(format!("{}/fn/set_group_state", app.base))
            .header(header::COOKIE, format!("pw_session={admin}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(h, v)
            .body(format!("group_id={}&state=invalid&fixed_commit=", ids.gid))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{h}: {v}");
        assert_eq!(before, snapshot(&app, &ids).await);
    }
}
