//! Security headers on every kind of answer: pages carry a nonce-based
//! Content-Security-Policy whose nonce is on every inline script of the page; API
//! answers, static files and errors carry a policy that allows nothing; frames are
//! refused everywhere; HSTS only behind an https public URL. CSP reports are counted.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_server::testing::{spawn_app, spawn_app_with, Db, TestApp};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("request")
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing on {}", res.url()))
        .to_str()
        .expect("ascii header")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app(Db::Sqlite).await;
    for path in [
        "/",
        "/login",
        "/api/v1/projects",
        "/pkg/perfwatch.css",
        "/no/such/page",
        "/api/v1/series/999999/points",
    ] {
        let res = get(&app, path).await;
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&res, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header(&res, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        let csp = header(&res, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "no HSTS over http: {path}"
        );
    }

    // A page: scripts only from here or with this answer's nonce, which every inline
    // script of the page carries; a second answer gets a different nonce.
    let res = get(&app, "/").await;
    let csp = header(&res, "content-security-policy").to_string();
    let nonce = csp
        .split_whitespace()
        .find_map(|t| t.strip_prefix("'nonce-"))
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce in the page policy: {csp}"))
        .to_string();
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let html = res.text().await.expect("page");
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page has its hydration script");
    for s in &scripts {
        let tag = s.split('>').next().unwrap_or("");
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
            "inline script without the nonce: <script{tag}>"
        );
    }
    let again = get(&app, "/").await;
    assert!(!header(&again, "content-security-policy").contains(&nonce));

    // API answers allow nothing to run.
    let api = get(&app, "/api/v1/projects").await;
    assert!(header(&api, "content-security-policy").starts_with("default-src 'none'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_behind_an_https_public_url_and_csp_reports_are_counted() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.public_url = Some("https://perf.example.test".into());
    })
    .await;
    let res = get(&app, "/").await;
    assert!(header(&res, "strict-transport-security").starts_with("max-age="));

    let client = reqwest::Client::new();
    let report = serde_json::json!({"csp-report": {
        "document-uri": format!("{}/", app.base),
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
    }});
    // Browsers send reports without cookies or an Origin header: accepted anyway.
    let res = client
        .post(format!("{}/csp-report", app.base))
        .header("content-type", "application/csp-report")
        .body(report.to_string())
        .send()
        .await
        .expect("report");
    assert_eq!(res.status().as_u16(), 204);
    let res = client
        .post(format!("{}/csp-report", app.base))
        .body("not json")
        .send()
        .await
        .expect("report");
    assert_eq!(res.status().as_u16(), 400);
    let metrics = get(&app, "/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"perfwatch_csp_violations_total{directive="script-src-elem"} 1"#),
        "{metrics}"
    );
}
