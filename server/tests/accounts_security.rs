//! Sessions, token expiry and the audit log (issue 17 items 2 and 4), on SQLite and
//! PostgreSQL, through the real server:
//!
//! - a login replaces the session of the cookie it arrived with, and a role change
//!   ends every session of the user: the old cookies stop working;
//! - "log out everywhere" ends every session of the user, API tokens keep working;
//!   without a login it is refused, cross-site it is refused;
//! - a token past its expiry is refused with 401 "token expired", an unexpired one
//!   works, bad expiries name their field; last use is shown to admins (API and page);
//! - every recorded action kind leaves a row with its actor, target and address, never
//!   a secret; a failed login reads the same for an unknown name and a wrong password;
//!   the audit API pages and filters, and is for global admins only (403 / 401).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use perfwatch_github::fake::payloads;
use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, TestApp, PASSWORD,
};
use reqwest::{header, Client, Method, RequestBuilder};
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    db, multi_thread:
    sessions_rotate_at_login_and_role_change,
    logout_everywhere_ends_sessions_not_tokens,
    expired_tokens_are_refused_and_last_use_is_shown,
    audit_log_records_every_kind_for_admins_only,
);

const WEBHOOK_SECRET: &str = "whsec-audit-0123456789";
const GH_TOKEN: &str = "ghs_audit_secret_token";
const REPO: &str = "example/driver";

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

enum As<'a> {
    Nobody,
    Session(&'a str),
    Bearer(&'a str),
}

fn with(r: RequestBuilder, who: &As, app: &TestApp) -> RequestBuilder {
    match who {
        As::Nobody => r,
        // A browser's same-origin request.
        As::Session(s) => r
            .header(header::COOKIE, format!("pw_session={s}"))
            .header(header::ORIGIN, &app.base),
        As::Bearer(t) => r.bearer_auth(t),
    }
}

async fn api(
    app: &TestApp,
    who: As<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = with(
        client().request(method, format!("{}/api/v1{path}", app.base)),
        &who,
        app,
    );
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Whether the session cookie is still a logged-in session (the account page says so).
async fn logged_in(app: &TestApp, session: &str) -> bool {
    let (status, body) = app.page(Some(session), "/account").await;
    assert_eq!(status, 200, "{body}");
    let yes = body.contains("data-testid=\"account-name\"");
    assert!(
        yes || body.contains("data-testid=\"not-logged-in\""),
        "{body}"
    );
    yes
}

/// Logs `name` in with `password`, sending `cookie` as the browser's current one.
async fn login_with(
    app: &TestApp,
    name: &str,
    password: &str,
    cookie: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut r = client()
        .post(format!("{}/auth/login", app.base))
        .header(header::ORIGIN, &app.base)
        .form(&[("name", name), ("password", password)]);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, format!("pw_session={c}"));
    }
    let res = r.send().await.unwrap();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let session = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .and_then(|c| c.strip_prefix("pw_session="))
        .map(str::to_string);
    (res.status().as_u16(), session, location)
}

async fn logout_all(app: &TestApp, who: As<'_>, cross_site: bool) -> (u16, String, String) {
    let mut r = with(
        client().post(format!("{}/auth/logout-all", app.base)),
        &who,
        app,
    );
    if cross_site {
        r = r.header("sec-fetch-site", "cross-site");
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|c| c.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, cookie, res.text().await.unwrap_or_default())
}

async fn setup(db: Db) -> TestApp {
    let app = spawn_app_with(db, |_| {}).await;
    create_rights_projects(&app.store).await;
    create_role_users(&app.store).await;
    app
}

async fn sessions_rotate_at_login_and_role_change(db: Db) {
    let app = setup(db).await;
    // Login rotation: logging in with a cookie in hand starts a new session and ends
    // the one of that cookie (whoever's it was).
    let old = app.login("viewer").await;
    assert!(logged_in(&app, &old).await);
    let (status, new, _) = login_with(&app, "viewer", PASSWORD, Some(&old)).await;
    assert_eq!(status, 303);
    let new = new.expect("a new session cookie");
    assert_ne!(new, old);
    assert!(
        !logged_in(&app, &old).await,
        "the cookie from before the login still works"
    );
    assert!(logged_in(&app, &new).await);
    // A planted id (an attacker's own session) does not survive the victim's login.
    let planted = app.login("triager").await;
    let (_, victims, _) = login_with(&app, "admin", PASSWORD, Some(&planted)).await;
    let victims = victims.unwrap();
    assert_ne!(victims, planted);
    assert!(!logged_in(&app, &planted).await);
    assert!(logged_in(&app, &victims).await);

    // A privilege change ends every session of the user.
    let second = app.login("viewer").await;
    assert!(logged_in(&app, &new).await && logged_in(&app, &second).await);
    let (status, body) = api(
        &app,
        As::Session(&victims),
        Method::POST,
        "/users/viewer/memberships",
        Some(json!({"role": "triager"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        !logged_in(&app, &new).await,
        "a session from before the role change still works"
    );
    assert!(!logged_in(&app, &second).await);
    // The admin's own session is untouched; the viewer logs in again with the new role.
    assert!(logged_in(&app, &victims).await);
    let again = app.login("viewer").await;
    let (_, page) = app.page(Some(&again), "/account").await;
    assert!(page.contains("triager@*"), "{page}");
    // And the audit log says who changed what, from where.
    let (_, log) = api(
        &app,
        As::Session(&victims),
        Method::GET,
        "/audit?action=membership",
        None,
    )
    .await;
    let row = &log["entries"][0];
    assert_eq!(row["actor"], "user:admin");
    assert_eq!(row["target"], "user:viewer");
    assert_eq!(row["details"]["role"], "triager");
    assert_eq!(row["details"]["previous_role"], "viewer");
    assert_eq!(row["details"]["sessions_ended"], 2);
    assert_eq!(row["address"], "127.0.0.1");
}

async fn logout_everywhere_ends_sessions_not_tokens(db: Db) {
    let app = setup(db).await;
    let s1 = app.login("admin").await;
    let s2 = app.login("admin").await;
    let other = app.login("viewer").await;
    let (status, created) = api(
        &app,
        As::Session(&s1),
        Method::POST,
        "/tokens",
        Some(json!({"name": "ci", "scopes": "admin"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();

    // Refused: without a login, with an API token, and cross-site with the cookie.
    assert_eq!(logout_all(&app, As::Nobody, false).await.0, 401);
    let (status, _, body) = logout_all(&app, As::Bearer(&token), false).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("API token"), "{body}");
    assert_eq!(logout_all(&app, As::Session(&s1), true).await.0, 403);
    assert!(logged_in(&app, &s1).await && logged_in(&app, &s2).await);

    let (status, cookie, _) = logout_all(&app, As::Session(&s2), false).await;
    assert_eq!(status, 303);
    assert!(
        cookie.starts_with("pw_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    assert!(
        !logged_in(&app, &s1).await,
        "another browser's session survived"
    );
    assert!(!logged_in(&app, &s2).await);
    // Other users' sessions and the API token keep working.
    assert!(logged_in(&app, &other).await);
    let (status, _) = api(&app, As::Bearer(&token), Method::GET, "/tokens", None).await;
    assert_eq!(status, 200);

    // The account page offers the button.
    let s3 = app.login("admin").await;
    let (_, page) = app.page(Some(&s3), "/account").await;
    assert!(page.contains("action=\"/auth/logout-all\""), "{page}");
    assert!(page.contains("1 active session"), "{page}");
}

async fn expired_tokens_are_refused_and_last_use_is_shown(db: Db) {
    let app = setup(db).await;
    let admin = app.login("admin").await;
    let create = |body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            api(
                app,
                As::Session(&admin),
                Method::POST,
                "/tokens",
                Some(body),
            )
            .await
        }
    };
    // Bad expiries name their field.
    let in_past =
        create(json!({"name": "a", "scopes": "ingest", "expires_at": "2020-01-01T00:00:00Z"}))
            .await;
    assert_eq!(in_past.0, 422);
    assert_eq!(
        in_past.1["error"]["fields"][0]["path"], "expires_at",
        "{}",
        in_past.1
    );
    let both = create(json!({"name": "a", "scopes": "ingest", "expires_at": 4102444800000i64, "expires_in_days": 3})).await;
    assert_eq!(both.0, 422);
    assert_eq!(both.1["error"]["fields"][0]["path"], "expires_in_days");
    let zero = create(json!({"name": "a", "scopes": "ingest", "expires_in_days": 0})).await;
    assert_eq!(zero.0, 422);

    let (s, week) = create(json!({"name": "week", "scopes": "admin", "expires_in_days": 7})).await;
    assert_eq!(s, 201, "{week}");
    let now = perfwatch_backend::time::now_ms();
    let (_, list) = api(&app, As::Session(&admin), Method::GET, "/tokens", None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == week["id"])
        .unwrap()
        .clone();
    let at = listed["expires_at"].as_i64().unwrap();
    assert!((at - (now + 7 * 86_400_000)).abs() < 60_000, "{at}");
    let soon_at = perfwatch_backend::time::now_ms() + 1500;
    let (s, soon) = create(json!({"name": "soon", "scopes": "admin", "expires_at": soon_at})).await;
    assert_eq!(s, 201, "{soon}");
    let week_token = week["token"].as_str().unwrap();
    let soon_token = soon["token"].as_str().unwrap();
    let (s, _) = api(&app, As::Bearer(soon_token), Method::GET, "/tokens", None).await;
    assert_eq!(s, 200, "an unexpired token works");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    for (method, path, body) in [
        (Method::GET, "/tokens", None),
        (Method::POST, "/projects", Some(json!({"slug": "late"}))),
    ] {
        let (s, body) = api(&app, As::Bearer(soon_token), method, path, body).await;
        assert_eq!(s, 401, "{body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("token expired"), "{msg}");
    }
    assert!(app.store.project("late").await.is_err());
    let (s, _) = api(&app, As::Bearer(week_token), Method::GET, "/projects", None).await;
    assert_eq!(s, 200);

    // Last use, for admins: set by the use above, absent for the unused tokens.
    let (_, list) = api(&app, As::Session(&admin), Method::GET, "/tokens", None).await;
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert!(by_name("week")["last_used_at"].as_i64().unwrap() >= now);
    assert_eq!(by_name("week")["expires_at"], at);
    assert!(by_name("test")["last_used_at"].is_null());
    let (_, page) = app.page(Some(&admin), "/admin/tokens").await;
    let row = |id: i64| {
        let start = page
            .find(&format!("data-token=\"{id}\""))
            .expect("the token's row");
        page[start..start + page[start..].find("</tr>").unwrap()].to_string()
    };
    let week_row = row(week["id"].as_i64().unwrap());
    assert!(
        !week_row.contains(">never<"),
        "last use and expiry shown: {week_row}"
    );
    let unused = app
        .store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "test")
        .unwrap();
    assert!(row(unused.id).contains(">never<"));
    // Only admins see the list.
    let viewer = app.login("viewer").await;
    let (s, _) = api(&app, As::Session(&viewer), Method::GET, "/tokens", None).await;
    assert_eq!(s, 403);
}

/// Waits until the audit log has an entry of `action`.
async fn wait_for(app: &TestApp, admin: &str, action: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, log) = api(
            app,
            As::Bearer(admin),
            Method::GET,
            &format!("/audit?action={action}"),
            None,
        )
        .await;
        if let Some(e) = log["entries"].as_array().and_then(|e| e.first()) {
            return e.clone();
        }
        assert!(Instant::now() < deadline, "no {action} entry: {log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn audit_log_records_every_kind_for_admins_only(db: Db) {
    let app = setup(db).await;
    let admin_token = app.token.clone();
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    // Failed logins: an unknown name and a wrong password.
    assert_eq!(
        login_with(&app, "nobody", "guess-guess", None).await.2,
        "/login?error=1&next=/"
    );
    assert_eq!(
        login_with(&app, "viewer", "wrong-password", None).await.2,
        "/login?error=1&next=/"
    );
    // Logout, then log out everywhere.
    let res = client()
        .post(format!("{}/auth/logout", app.base))
        .header(header::ORIGIN, &app.base)
        .header(header::COOKIE, format!("pw_session={viewer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let triager = app.login("triager").await;
    assert_eq!(logout_all(&app, As::Session(&triager), false).await.0, 303);
    // Tokens, users, roles.
    let (_, t) = api(
        &app,
        As::Session(&admin),
        Method::POST,
        "/tokens",
        Some(json!({"name": "deploy", "scopes": "ingest", "project": "drv"})),
    )
    .await;
    let token_secret = t["token"].as_str().unwrap().to_string();
    let (s, _) = api(
        &app,
        As::Session(&admin),
        Method::DELETE,
        &format!("/tokens/{}", t["id"]),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = api(
        &app,
        As::Session(&admin),
        Method::POST,
        "/users",
        Some(json!({"name": "ana", "password": "ana-password-1", "role": "viewer"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = api(
        &app,
        As::Bearer(&admin_token),
        Method::POST,
        "/users/ana/memberships",
        Some(json!({"project": "drv", "role": "admin"})),
    )
    .await;
    assert_eq!(s, 204);
    // The GitHub integration (with secrets), a metric source, job commands.
    let (s, body) = api(&app, As::Session(&admin), Method::PUT, "/projects/drv/github", Some(json!({
        "repo": REPO, "webhook_secret": WEBHOOK_SECRET, "token": GH_TOKEN, "reconcile_every_s": 0,
        // Nothing listens there: the help reply is not sent anywhere real.
        "api_base": "http://127.0.0.1:9"
    }))).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api(&app, As::Session(&admin), Method::PUT, "/projects/drv/metric-sources/prom", Some(json!({
        "config": "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = \"up\"\n",
        "bearer_token": "prom-bearer-secret"
    }))).await;
    assert_eq!(s, 200, "{body}");
    let (s, job) = api(
        &app,
        As::Session(&admin),
        Method::POST,
        "/projects/drv/jobs",
        Some(json!({"commit": "ab".repeat(20)})),
    )
    .await;
    assert_eq!(s, 201, "{job}");
    let job_id = job["id"].as_i64().unwrap();
    let (s, _) = api(
        &app,
        As::Session(&admin),
        Method::POST,
        &format!("/jobs/{job_id}/rerun"),
        None,
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = api(
        &app,
        As::Session(&admin),
        Method::POST,
        &format!("/jobs/{job_id}/cancel"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    // A refused change leaves no row.
    let (s, _) = api(
        &app,
        As::Session(&app.login("viewer").await),
        Method::POST,
        &format!("/jobs/{job_id}/rerun"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    // A `/perfwatch help` comment on a PR, through the signed webhook.
    let comment = payloads::issue_comment(REPO, 7, "/perfwatch help", "grace", "COLLABORATOR");
    let bytes = serde_json::to_vec(&comment).unwrap();
    let res = client()
        .post(format!("{}/api/v1/github/webhook", app.base))
        .header("X-GitHub-Event", "issue_comment")
        .header("X-GitHub-Delivery", "audit-1")
        .header(
            "X-Hub-Signature-256",
            perfwatch_github::signature::sign(WEBHOOK_SECRET.as_bytes(), &bytes),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let command = wait_for(&app, &admin_token, "job.command").await;
    assert_eq!(command["actor"], "github:@grace");
    assert_eq!(command["target"], format!("pr:{REPO}#7"));
    assert_eq!(command["details"]["outcome"], "answered: help");

    // Every kind, with actor and target; addresses for what came over HTTP.
    let (s, all) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        "/audit?limit=500",
        None,
    )
    .await;
    assert_eq!(s, 200, "{all}");
    let entries = all["entries"].as_array().unwrap().clone();
    let find = |action: &str, target: &str| -> Value {
        entries
            .iter()
            .find(|e| e["action"] == action && e["target"] == target)
            .unwrap_or_else(|| panic!("no {action} on {target}: {all}"))
            .clone()
    };
    let expect = [
        ("login", "user:admin", "user:admin"),
        ("login.failed", "user:nobody", "anonymous"),
        ("login.failed", "user:viewer", "anonymous"),
        ("logout", "user:viewer", "user:viewer"),
        ("logout.all", "user:triager", "user:triager"),
        ("token.create", "token:deploy", "user:admin"),
        ("token.revoke", "token:deploy", "user:admin"),
        ("user.create", "user:ana", "user:admin"),
        ("membership.set", "user:ana", "token:test"),
        ("github.integration", "projects/drv/github", "user:admin"),
        (
            "metric_source.put",
            "projects/drv/metric-sources/prom",
            "user:admin",
        ),
        ("job.enqueue", "projects/drv/jobs", "user:admin"),
        ("job.rerun", &format!("jobs/{job_id}/rerun"), "user:admin"),
        ("job.cancel", &format!("jobs/{job_id}/cancel"), "user:admin"),
    ];
    for (action, target, actor) in expect {
        let e = find(action, target);
        assert_eq!(e["actor"], actor, "{e}");
        assert_eq!(e["address"], "127.0.0.1", "{e}");
        assert!(e["at"].as_i64().unwrap() > 0);
    }
    // Fixtures made in-process are attributed to `local`.
    assert_eq!(find("user.create", "user:viewer")["actor"], "local");
    assert_eq!(
        find("token.create", "token:deploy")["details"]["scopes"],
        "ingest"
    );
    assert_eq!(
        find("job.enqueue", "projects/drv/jobs")["details"]["id"],
        job_id
    );
    assert_eq!(
        find("job.cancel", &format!("jobs/{job_id}/cancel"))["details"]["canceled"],
        true
    );
    let gh = find("github.integration", "projects/drv/github");
    assert_eq!(
        gh["details"]["fields"],
        json!([
            "api_base",
            "reconcile_every_s",
            "repo",
            "token",
            "webhook_secret"
        ])
    );
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "job.rerun")
            .count(),
        1,
        "the refused rerun was recorded"
    );
    // A failed login reads the same whether the name exists or not.
    assert_eq!(
        find("login.failed", "user:nobody")["details"],
        find("login.failed", "user:viewer")["details"]
    );
    // No secret anywhere: passwords, tokens, webhook and bearer secrets.
    let text = all.to_string();
    for secret in [
        PASSWORD,
        "guess-guess",
        "wrong-password",
        "ana-password-1",
        WEBHOOK_SECRET,
        GH_TOKEN,
        "prom-bearer-secret",
        &token_secret,
        &admin,
    ] {
        assert!(
            !text.contains(secret),
            "a secret in the audit log: {secret}"
        );
    }

    // Paging, newest first, and filters.
    let (_, p1) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        "/audit?limit=3",
        None,
    )
    .await;
    let ids = |p: &Value| {
        p["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let first = ids(&p1);
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[0] > w[1]));
    let before = p1["next_before"].as_i64().unwrap();
    let (_, p2) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        &format!("/audit?limit=3&before={before}"),
        None,
    )
    .await;
    assert!(ids(&p2).iter().all(|id| *id < *first.last().unwrap()));
    let (_, jobs) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        "/audit?action=job",
        None,
    )
    .await;
    let actions: Vec<&str> = jobs["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["job.command", "job.cancel", "job.rerun", "job.enqueue"]
    );
    let (s, bad) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        "/audit?action=drop",
        None,
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(bad["error"]["fields"][0]["path"], "action");
    let (s, _) = api(
        &app,
        As::Session(&admin),
        Method::GET,
        "/audit?limit=0",
        None,
    )
    .await;
    assert_eq!(s, 422);

    // Global admins only.
    let viewer = app.login("viewer").await;
    let ana = login_with(&app, "ana", "ana-password-1", None)
        .await
        .1
        .unwrap();
    let (_, ingest) =
        perfwatch_backend::tokens::create_token_with_scopes(&app.store, "ing", None, "ingest")
            .await
            .unwrap();
    for (who, want) in [
        (As::Session(&viewer), 403),
        (As::Session(&ana), 403),
        (As::Bearer(&ingest), 403),
        (As::Nobody, 401),
    ] {
        let (s, body) = api(&app, who, Method::GET, "/audit", None).await;
        assert_eq!(s, want, "{body}");
    }
    // The admin page lists the log; others see a refusal.
    let (s, page) = app.page(Some(&admin), "/admin/audit?action=token").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("data-testid=\"audit\"") && page.contains("token:deploy"),
        "{page}"
    );
    assert!(!page.contains("user:ana"), "the filter shows tokens only");
    let (_, page) = app.page(Some(&viewer), "/admin/audit").await;
    assert!(page.contains("data-testid=\"not-admin\"") && !page.contains("token:deploy"));
}
