//! Triage in real headless Chromium: a triager logs in through the /login form, opens
//! an alert group, acknowledges it and links a ticket through the hydrated page (no
//! reload), and sees both in the history; an anonymous visitor (a fresh browser
//! profile) sees the alert and its history but no triage controls; a forged cross-site
//! post riding on the session cookie is refused. Saves screenshots under target/browser/.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use perfwatch_backend::accounts::Role;
use perfwatch_tests::browser::*;
use perfwatch_tests::*;
use serde_json::json;

const MOUSE_JS: &str = r#"
const [type, fx, fy] = arguments;
const svg = document.querySelector('svg.trend');
const r = svg.getBoundingClientRect();
const x = r.left + r.width * fx, y = r.top + r.height * fy;
svg.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y, bubbles: true}));
return true;
"#;

/// A project with a ticket template, a step at commit 21 in one series and at commit
/// 31 in another; answers the first one's alert group and the other alert.
async fn seed(app: &TestApp) -> (i64, i64) {
    create_project(app, "tri").await;
    for i in 1..=40u64 {
        let v = if i > 20 { 130.0 } else { 100.0 } + (i % 3) as f64;
        // A second series with its own step (another group) for the bulk action.
        let w = if i > 30 { 80.0 } else { 50.0 } + (i % 2) as f64;
        let (s, b) = post_run(
            app,
            &run_json(
                "tri",
                &sha(i),
                &[("BenchmarkInsert", v), ("BenchmarkDelete", w)],
            ),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/projects/tri/ticket-template", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"kind": "github", "base_url": "https://github.com/example/repo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    perfwatch_backend::accounts::create_user(
        &app.store,
        "sheriff",
        "correct horse battery",
        Some(Role::Triager),
    )
    .await
    .unwrap();
    let (_, alerts) = get_json(app, "/api/v1/alerts?project=tri").await;
    let insert = |a: &&serde_json::Value| a["series"]["benchmark"] == "BenchmarkInsert";
    let all = alerts.as_array().unwrap();
    assert_eq!(all.len(), 2, "two alerts: {alerts}");
    let gid = all.iter().find(insert).unwrap()["group_id"]
        .as_i64()
        .unwrap();
    let other = all.iter().find(|a| !insert(a)).unwrap();
    assert_ne!(other["group_id"].as_i64(), Some(gid), "two groups");
    (gid, other["id"].as_i64().unwrap())
}

async fn wait_text(c: &Client, css: &str, want: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(want) {
                    return Ok(t);
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "{css} does not show {want:?}: {t:?}"
                );
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "{css} not found");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the page hydrated: only then does the chart answer a hover.
async fn wait_hydrated(c: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.execute(MOUSE_JS, vec![json!("mousemove"), json!(0.5), json!(0.5)])
            .await?;
        if c.find(Locator::Css("[data-testid=chart-tooltip]"))
            .await
            .is_ok()
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the page did not hydrate (no chart tooltip)"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn triager_checks(c: &Client, app: &TestApp, gid: i64) -> anyhow::Result<String> {
    // Log in through the form; it sends the browser on to the group.
    c.goto(&format!("{}/login?next=/alerts/groups/{gid}", app.base))
        .await?;
    c.find(Locator::Css("form.login input[name=name]"))
        .await?
        .send_keys("sheriff")
        .await?;
    c.find(Locator::Css("form.login input[name=password]"))
        .await?
        .send_keys("correct horse battery")
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=triage-controls]"))
        .await?;
    let url = c.current_url().await?;
    anyhow::ensure!(
        url.path() == format!("/alerts/groups/{gid}"),
        "after login: {url}"
    );
    wait_text(c, "[data-testid=group-state]", "untriaged").await?;
    let new_issue = c
        .find(Locator::Css("[data-testid=new-ticket]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        new_issue.ends_with(&format!("/api/v1/alert-groups/{gid}/new-ticket?go=1")),
        "new issue link {new_issue}"
    );
    wait_hydrated(c).await?;
    // A mark that a full page load would lose: the actions must not reload the page.
    c.execute("window.__pwNoReload = true; return true;", vec![])
        .await?;

    // Acknowledge.
    c.find(Locator::Css("[data-testid=state-select]"))
        .await?
        .select_by_value("acknowledged")
        .await?;
    c.find(Locator::Css("[data-testid=set-state]"))
        .await?
        .click()
        .await?;
    wait_text(c, "[data-testid=group-state]", "acknowledged").await?;
    let h = wait_text(c, "[data-testid=history] tbody", "acknowledged").await?;
    anyhow::ensure!(
        h.contains("user:sheriff") && h.contains("untriaged"),
        "history names who and from: {h:?}"
    );

    // Link a ticket.
    let form = c.find(Locator::Css("[data-testid=ticket-form]")).await?;
    let key = form.find(Locator::Css("input[name=key]")).await?;
    key.clear().await?;
    key.send_keys("PERF-42").await?;
    let u = form.find(Locator::Css("input[name=url]")).await?;
    u.clear().await?;
    u.send_keys("https://issues.example/PERF-42").await?;
    c.find(Locator::Css("[data-testid=link-ticket]"))
        .await?
        .click()
        .await?;
    wait_text(c, "[data-testid=ticket]", "PERF-42").await?;
    let h = wait_text(c, "[data-testid=history] tbody", "PERF-42").await?;
    anyhow::ensure!(h.contains("ticket"), "history shows the ticket: {h:?}");
    let ticket_href = c
        .find(Locator::Css("[data-testid=ticket]"))
        .await?
        .attr("href")
        .await?;
    anyhow::ensure!(
        ticket_href.as_deref() == Some("https://issues.example/PERF-42"),
        "{ticket_href:?}"
    );
    let kept = c
        .execute("return window.__pwNoReload === true;", vec![])
        .await?;
    anyhow::ensure!(
        kept == json!(true),
        "the page reloaded: the forms did not run through the hydrated app"
    );
    std::fs::write(
        screenshot_dir().join("triage-acknowledged.png"),
        c.screenshot().await?,
    )?;

    // The stored state agrees with the page.
    let g = app.store.alert_group(gid).await?;
    anyhow::ensure!(g.triage.state.as_str() == "acknowledged");
    anyhow::ensure!(g.triage.ticket_key.as_deref() == Some("PERF-42"));

    let cookie = c.get_named_cookie("pw_session").await?.value().to_string();
    Ok(cookie)
}

/// The alerts list of a triager: tick the other alert, set it to "won't fix" in bulk.
async fn bulk_checks(c: &Client, app: &TestApp, gid: i64, other: i64) -> anyhow::Result<()> {
    c.goto(&format!("{}/alerts?project=tri", app.base)).await?;
    let pick = format!("tr[data-alert=\"{other}\"] input.pick");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&pick))
        .await?;
    // Before hydration a tick does not count; keep ticking until the form sees it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let count = c
            .find(Locator::Css("[data-testid=bulk-form] span"))
            .await?
            .text()
            .await?;
        if count.starts_with("1 selected") {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the bulk form never saw the tick: {count:?}"
        );
        let cb = c.find(Locator::Css(&pick)).await?;
        if !cb.is_selected().await? {
            cb.click().await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    c.find(Locator::Css("[data-testid=bulk-form] select[name=state]"))
        .await?
        .select_by_value("wontfix")
        .await?;
    c.find(Locator::Css("[data-testid=bulk-apply]"))
        .await?
        .click()
        .await?;
    wait_text(c, "[data-testid=bulk-result]", "1 alert changed").await?;
    wait_text(c, &format!("tr[data-alert=\"{other}\"]"), "wontfix").await?;
    std::fs::write(
        screenshot_dir().join("triage-bulk.png"),
        c.screenshot().await?,
    )?;
    let a = app.store.alert(other).await?;
    anyhow::ensure!(a.status == "wontfix", "stored state {}", a.status);
    // The first group is untouched.
    let g = app.store.alert_group(gid).await?;
    anyhow::ensure!(g.alerts.iter().all(|a| a.status == "acknowledged"));
    // The state filter lands in the URL and narrows the list.
    c.goto(&format!("{}/alerts?project=tri&state=wontfix", app.base))
        .await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=alerts]"))
        .await?;
    let n = c
        .find_all(Locator::Css("[data-testid=alerts] tbody tr"))
        .await?
        .len();
    anyhow::ensure!(n == 1, "state=wontfix shows {n} alerts");
    Ok(())
}

/// A forged post: the victim's cookie, sent from another origin (what a page on
/// evil.example could make a browser do). Both the server function and REST refuse.
async fn forged_post_checks(app: &TestApp, gid: i64, cookie: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let forged = [
        (
            format!("{}/fn/set_group_state", app.base),
            "application/x-www-form-urlencoded",
            format!("group_id={gid}&state=invalid&fixed_commit="),
        ),
        (
            format!("{}/api/v1/alert-groups/{gid}/state", app.base),
            "application/json",
            json!({"state": "invalid"}).to_string(),
        ),
    ];
    for (url, ctype, body) in &forged {
        for (h, v) in [
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let res = http
                .post(url)
                .header("cookie", format!("pw_session={cookie}"))
                .header("content-type", *ctype)
                .header(h, v)
                .body(body.clone())
                .send()
                .await?;
            anyhow::ensure!(
                res.status().as_u16() == 403,
                "forged post to {url} ({h}: {v}) answered {}",
                res.status()
            );
        }
    }
    // The same post from this origin without a login: refused as anonymous.
    let res = http
        .post(format!("{}/fn/set_group_state", app.base))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("group_id={gid}&state=invalid&fixed_commit="))
        .send()
        .await?;
    anyhow::ensure!(
        res.status().as_u16() == 401,
        "anonymous post answered {}",
        res.status()
    );
    let g = app.store.alert_group(gid).await?;
    anyhow::ensure!(
        g.triage.state.as_str() == "acknowledged",
        "a refused post changed the state to {}",
        g.triage.state.as_str()
    );
    Ok(())
}

async fn anonymous_checks(c: &Client, app: &TestApp, gid: i64) -> anyhow::Result<()> {
    c.goto(&format!("{}/alerts/groups/{gid}", app.base)).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("section.alert-detail svg.trend"))
        .await?;
    wait_text(c, "[data-testid=group-state]", "acknowledged").await?;
    wait_text(c, "[data-testid=history] tbody", "PERF-42").await?;
    wait_hydrated(c).await?;
    for css in [
        "[data-testid=triage-controls]",
        "form.triage-form",
        "select[name=state]",
        "[data-testid=new-ticket]",
    ] {
        let n = c.find_all(Locator::Css(css)).await?.len();
        anyhow::ensure!(n == 0, "an anonymous visitor sees {css} ({n}×)");
    }
    // The chart marks the alert in its triage state.
    let marks = c
        .find_all(Locator::Css("svg.trend .alert-mark.state-acknowledged"))
        .await?;
    anyhow::ensure!(!marks.is_empty(), "no acknowledged alert marker");
    std::fs::write(
        screenshot_dir().join("triage-anonymous.png"),
        c.screenshot().await?,
    )?;
    // The alerts list has no bulk actions either.
    c.goto(&format!("{}/alerts?state=acknowledged", app.base))
        .await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=alerts] tbody tr"))
        .await?;
    for css in ["[data-testid=bulk-form]", "input.pick"] {
        let n = c.find_all(Locator::Css(css)).await?.len();
        anyhow::ensure!(n == 0, "an anonymous visitor sees {css} on /alerts");
    }
    Ok(())
}

#[tokio::test]
async fn triager_acknowledges_and_links_a_ticket_anonymous_sees_no_controls() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    let (gid, other) = seed(&app).await;
    let mut driver = start_driver().await;

    let client = connect(&mut driver, "triager").await;
    let mut result = triager_checks(&client, &app, gid).await;
    if result.is_ok() {
        if let Err(e) = bulk_checks(&client, &app, gid, other).await {
            result = Err(e);
        }
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("triage-failure.png"), png);
        }
    }
    // Always end the browser session, also when a check failed.
    let _ = client.close().await;
    let cookie = result.unwrap();

    forged_post_checks(&app, gid, &cookie).await.unwrap();

    let anon = connect(&mut driver, "anonymous").await;
    let result = anonymous_checks(&anon, &app, gid).await;
    if result.is_err() {
        if let Ok(png) = anon.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("triage-anonymous-failure.png"), png);
        }
    }
    let _ = anon.close().await;
    drop(driver);
    result.unwrap();
}
