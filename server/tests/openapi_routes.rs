//! The OpenAPI document and the router agree, both ways: every route the real router
//! has under `/api/v1` (and the webhook endpoints) is documented, and every documented
//! (method, path) is answered by a handler on a live server, not by the router's own
//! 404 or 405. `/api/docs` renders the document without script, under a strict CSP.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

mod openapi_support;

use std::collections::BTreeSet;

use openapi_support::{fetch_document, fill, in_scope, operations, METHODS};
use perfwatch_server::testing::{spawn_app, Db};
use perfwatch_server::ServerConfig;

/// The paths of the real application router. axum keeps no public list of routes,
/// but its `Debug` output shows every registered path (`RouteId(n): "/path"`), after
/// nesting, which is exactly what requests are matched against.
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    let mut paths = BTreeSet::new();
    for part in text.split("RouteId(").skip(1) {
        if let Some(rest) = part.split_once("): \"").map(|(_, r)| r) {
            if let Some(path) = rest.split('"').next() {
                paths.insert(path.to_string());
            }
        }
    }
    paths
}

/// Whether the router routed the request to a handler: its own answers are a plain
/// `not found` (the fallback) or 405 (a path without that method). A write method a
/// path lacks meets the rights layer first, which refuses any (method, route) missing
/// from `MUTATING_ROUTES` ("no declared rights") before the 405; a real route refused
/// that way is unusable anyway, and any declared one answers 401 here (no token).
async fn routed(c: &reqwest::Client, base: &str, method: &str, path: &str) -> bool {
    let url = format!("{base}{}", fill(path, &|_, _| None));
    let res = c
        .request(method.parse().unwrap(), &url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    !(status == 405
        || (status == 404 && body == "not found")
        || (status == 403 && body.contains("this route has no declared rights")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app.base).await;
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().collect();
    let doc_paths: BTreeSet<String> = documented.iter().map(|(_, p)| p.clone()).collect();

    let router = perfwatch_server::build_router(
        ServerConfig::for_database(&app.database_url),
        app.store.clone(),
        app.addr,
    );
    let paths: BTreeSet<String> = router_paths(&router)
        .into_iter()
        .filter(|p| in_scope(p))
        .collect();
    assert!(
        paths.len() > 40,
        "the router's paths were not read: {paths:?}"
    );
    let undocumented: Vec<&String> = paths.difference(&doc_paths).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from /api/v1/openapi.json: {undocumented:?}"
    );
    let unrouted: Vec<&String> = doc_paths.difference(&paths).collect();
    assert!(
        unrouted.is_empty(),
        "documented paths the router does not have: {unrouted:?}"
    );

    // Methods, on the live server: a documented one reaches a handler, any other is
    // the router's 405. Nothing here is authenticated, so no write happens.
    let c = reqwest::Client::new();
    let mut wrong = vec![];
    for path in &paths {
        for m in METHODS {
            let is_documented = documented.contains(&(m.to_string(), path.clone()));
            if routed(&c, &app.base, m, path).await != is_documented {
                wrong.push(format!(
                    "{m} {path}: {}",
                    if is_documented {
                        "documented but not routed"
                    } else {
                        "routed but not documented"
                    }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every `$ref` of the document, recursively.
fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                out.push(r.to_string());
            }
            m.values().for_each(|x| refs(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_the_document_names_is_in_it() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app.base).await;
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(all.len() > 100, "{} refs", all.len());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {r}"));
        assert!(schemas.contains_key(name), "{r} is not in the document");
    }
    for scheme in ["bearer", "session", "github_signature"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_page_renders_the_document_without_script_under_a_strict_policy() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app.base).await;
    let res = reqwest::get(format!("{}/api/docs", app.base))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "the page has no script"
    );
    assert!(html.contains("href=\"/pkg/perfwatch.css\""));
    for (method, path) in operations(&doc) {
        let shown = format!("<code>{method} {}</code>", html_escape::encode_text(&path));
        assert!(html.contains(&shown), "{method} {path} not on the page");
    }
    for scheme in ["bearer", "session", "github_signature"] {
        assert!(html.contains(&format!("<code>{scheme}</code>")), "{scheme}");
    }
    assert!(html.contains("id=\"schema-ErrorBody\""));
    // The stylesheet it links is served by perfwatch itself.
    let css = reqwest::get(format!("{}/pkg/perfwatch.css", app.base))
        .await
        .unwrap();
    assert_eq!(css.status().as_u16(), 200);
}
