//! Secrets never reach the logs or `Debug` output (issue 17, item 3): a server run
//! with every target at TRACE is given passwords, API tokens, integration secrets, a
//! metric source's bearer token and a webhook signing secret through its API, and
//! none of them appears in what it logged; the request/option types that carry them
//! print `<redacted>` under `{:?}`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, PASSWORD,
};
use reqwest::header;
use serde_json::{json, Value};

/// Collects every log line the process writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const WRONG_PASSWORD: &str = "wrong-pw-Zq81x";
const WEBHOOK_SECRET: &str = "whsec-log-Kp29d-0123456789";
const GH_TOKEN: &str = "ghp_logtest_Vb77";
const APP_KEY: &str = "-----BEGIN PRIVATE KEY-----logtest-Mw4";
const PROM_BEARER: &str = "prom-bearer-Jc55";
const HOOK_SECRET: &str = "hook-sign-Tt03-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_trace_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    create_rights_projects(&app.store).await;
    create_role_users(&app.store).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = |m: reqwest::Method, path: &str| {
        http.request(m, format!("{}/api/v1{path}", app.base))
            .bearer_auth(&app.token)
    };

    for password in [WRONG_PASSWORD, PASSWORD] {
        let r = http
            .post(format!("{}/auth/login", app.base))
            .header(header::ORIGIN, &app.base)
            .form(&[("name", "triager"), ("password", password)])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection() || r.status().is_success() || r.status() == 401);
    }
    let created: Value = api(reqwest::Method::POST, "/tokens")
        .json(&json!({"name": "ci", "scopes": "ingest"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_token = created["token"].as_str().expect("a new token").to_string();
    // The new token in use, and a wrong one refused.
    for t in [new_token.as_str(), "pw_not-a-real-token-Qe90"] {
        let _ = http
            .get(format!("{}/api/v1/projects", app.base))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
    }
    let r = api(reqwest::Method::PUT, "/projects/drv/github")
        .json(&json!({
            "repo": "example/driver", "webhook_secret": WEBHOOK_SECRET, "token": GH_TOKEN,
            "app_id": 7, "installation_id": 8, "app_private_key": APP_KEY,
            "reconcile_every_s": 0, "api_base": "http://127.0.0.1:9"
        }))
        .send()
        .await
        .unwrap();
    // An App key that is not a real key may be refused; the refusal must not echo it.
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!(status == 200 || status == 422, "{status} {body}");
    assert!(
        !body.contains(APP_KEY) && !body.contains(GH_TOKEN),
        "{body}"
    );
    let r = api(reqwest::Method::PUT, "/projects/drv/metric-sources/prom")
        .json(&json!({
            "config": "url = \"http://127.0.0.1:9\"\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = \"up\"\n",
            "bearer_token": PROM_BEARER
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api(reqwest::Method::POST, "/projects/drv/webhooks")
        .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["alert_group.created"], "secret": HOOK_SECRET}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // A signed GitHub delivery: the server opens the stored secret to check it.
    let _ = http
        .post(format!("{}/api/v1/github/webhook", app.base))
        .header("X-GitHub-Event", "ping")
        .header("X-GitHub-Delivery", "d-1")
        .header("X-Hub-Signature-256", "sha256=00")
        .body(r#"{"zen":"x","repository":{"full_name":"example/driver"}}"#)
        .send()
        .await
        .unwrap();

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        text.lines().count() > 20 && text.contains("answered"),
        "the server really logged at TRACE: {} lines",
        text.lines().count()
    );
    for secret in [
        WRONG_PASSWORD,
        PASSWORD,
        app.token.as_str(),
        new_token.as_str(),
        "pw_not-a-real-token-Qe90",
        WEBHOOK_SECRET,
        GH_TOKEN,
        APP_KEY,
        PROM_BEARER,
        HOOK_SECRET,
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(secret)) {
            panic!("a secret reached the log: {line}");
        }
    }
}

#[test]
fn types_carrying_secrets_print_redacted() {
    use perfwatch_backend::perf::integration::IntegrationInput;
    use perfwatch_backend::window_metrics::SourceInput;
    let i = IntegrationInput {
        repo: "o/r".into(),
        webhook_secret: Some(WEBHOOK_SECRET.into()),
        token: Some(GH_TOKEN.into()),
        app_private_key: Some(APP_KEY.into()),
        ..Default::default()
    };
    let s = SourceInput {
        config: "url = \"http://127.0.0.1:9\"".into(),
        bearer_token: Some(PROM_BEARER.into()),
    };
    let login = perfwatch_server::api::session::LoginForm {
        name: "ana".into(),
        password: WRONG_PASSWORD.into(),
        next: None,
    };
    let made = perfwatch_server::api::bodies::TokenCreated {
        id: 1,
        token: GH_TOKEN.into(),
    };
    for (shown, secret, visible) in [
        (format!("{i:?}"), GH_TOKEN, "o/r"),
        (format!("{i:?}"), WEBHOOK_SECRET, "o/r"),
        (format!("{i:?}"), APP_KEY, "o/r"),
        (format!("{s:?}"), PROM_BEARER, "127.0.0.1:9"),
        (format!("{login:?}"), WRONG_PASSWORD, "ana"),
        (format!("{made:?}"), GH_TOKEN, "id: 1"),
    ] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(
            shown.contains(visible) && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
