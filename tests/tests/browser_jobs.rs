//! The job pages in real headless Chromium: the queue lists a queued job with its
//! position and a running job with the tail of its log, which follows new lines live
//! after hydration; the warning shows when no runner heartbeated lately; the job page
//! shows state, links and the whole log; the integration page shows whether secrets are
//! set and never the secrets, saves the form keeping an empty secret, and refuses
//! non-admins. Every page runs under its Content-Security-Policy without a violation.
//! Saves screenshots under target/browser/.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use perfwatch_backend::accounts::Role;
use perfwatch_backend::queue::{kinds, Clock, Finish, Queue};
use perfwatch_backend::store::perf_jobs::{Fence, NewPerfJob, PerfState, Purpose};
use perfwatch_backend::time::now_ms;
use perfwatch_server::testing::PASSWORD;
use perfwatch_tests::browser::*;
use perfwatch_tests::*;
use serde_json::json;

const WEBHOOK_SECRET: &str = "whsec-do-not-show-0123456789";
const TOKEN: &str = "ghp_neverShownTokenValue987654321";

struct Seeded {
    running: i64,
    queued: i64,
    fence: Fence,
}

fn log_line(text: &str) -> (String, String, String, i64) {
    ("build".into(), "stdout".into(), text.into(), now_ms())
}

async fn seed(app: &TestApp) -> Seeded {
    create_project(app, "svc").await;
    // The integration goes through the server's API, so the server's own key seals it.
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/projects/svc/github", app.base))
        .bearer_auth(&app.token)
        .json(&json!({
            "repo": "example/svc",
            "webhook_secret": WEBHOOK_SECRET,
            "token": TOKEN,
            "api_base": "http://127.0.0.1:9",
            "reconcile_every_s": 0,
        }))
        .send()
        .await
        .expect("put the integration");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let store = &app.store;
    for (name, role) in [("admin", Role::Admin), ("viewer", Role::Viewer)] {
        perfwatch_backend::accounts::create_user(store, name, PASSWORD, Some(role))
            .await
            .expect("create a user");
    }
    let project = store.project("svc").await.unwrap().id;
    let job = |purpose: Purpose, n: u64, pr: Option<i64>| NewPerfJob {
        project_id: project,
        purpose,
        sha: sha(n),
        branch: Some(if pr.is_some() { "feature" } else { "main" }.into()),
        head_ref: None,
        pr_number: pr,
        base_sha: pr.map(|_| sha(1)),
        repeats: 0,
        requested_by: "test".into(),
    };
    // A master job, claimed by a runner whose last heartbeat was 5 minutes ago (its
    // lease lasts an hour): it runs, and the queue page warns that no runner is online.
    let t0 = now_ms() - 10 * 60_000;
    let (running, _) = store
        .perf_job_create(&job(Purpose::Master, 1, None), false, t0)
        .await
        .unwrap();
    let runner = Queue::new(store.clone(), "w", Duration::from_secs(3600))
        .with_clock(Clock::manual(now_ms() - 5 * 60_000));
    let lease = runner
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .expect("the master job is claimed");
    let fence = Fence {
        work_id: lease.job_id,
        fence: lease.fence,
    };
    assert!(store.perf_job_start(running, fence, t0).await.unwrap());
    let lines: Vec<_> = (1..=40)
        .map(|i| log_line(&format!("build line {i:02}")))
        .collect();
    assert!(store
        .perf_job_log_append(running, fence, &lines)
        .await
        .unwrap());
    // A PR job waiting in the queue.
    let (queued, _) = store
        .perf_job_create(&job(Purpose::Pr, 2, Some(7)), false, now_ms())
        .await
        .unwrap();
    Seeded {
        running,
        queued,
        fence,
    }
}

async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Css(css)).await?.text().await?)
}

/// Waits until the element `css` contains `want`.
async fn wait_contains(c: &Client, css: &str, want: &str, secs: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(want) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{css} does not show {want:?} after {secs} s: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn queue_checks(c: &Client, app: &TestApp, s: &Seeded) -> anyhow::Result<()> {
    c.goto(&format!("{}/queue", app.base)).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=queued-jobs]"))
        .await?;
    let pos = text_of(
        c,
        &format!(
            "[data-testid=queued-jobs] tr[data-job='{}'] [data-testid=position]",
            s.queued
        ),
    )
    .await?;
    anyhow::ensure!(pos.trim() == "1", "queued job at position {pos:?}");
    let row = text_of(c, &format!("tr[data-job='{}']", s.queued)).await?;
    anyhow::ensure!(row.contains("PR #7"), "queued row: {row:?}");
    let running = format!("[data-testid=running-job][data-job='{}']", s.running);
    let tail = text_of(c, &format!("{running} pre.log")).await?;
    anyhow::ensure!(
        tail.contains("build line 40") && tail.contains("build line 11"),
        "the tail shows the last 30 lines: {tail:?}"
    );
    anyhow::ensure!(
        !tail.contains("build line 10"),
        "the tail shows only the last 30 lines: {tail:?}"
    );
    let banner = text_of(c, "[data-testid=no-worker]").await?;
    anyhow::ensure!(
        banner.contains("No worker online since"),
        "banner: {banner:?}"
    );

    // A line written after the page loaded shows up by itself (after hydration, the
    // page asks every 2 s).
    app.store
        .perf_job_log_append(s.running, s.fence, &[log_line("live line after load")])
        .await?;
    wait_contains(c, &format!("{running} pre.log"), "live line after load", 15).await?;
    let tail = text_of(c, &format!("{running} pre.log")).await?;
    anyhow::ensure!(
        !tail.contains("build line 11"),
        "the tail keeps 30 lines: {tail:?}"
    );
    std::fs::write(
        screenshot_dir().join("jobs-queue.png"),
        c.screenshot().await?,
    )?;
    Ok(())
}

async fn job_page_checks(c: &Client, app: &TestApp, s: &Seeded) -> anyhow::Result<()> {
    c.goto(&format!("{}/jobs/{}", app.base, s.running)).await?;
    wait_contains(c, "[data-testid=job-state]", "running", 10).await?;
    let log = text_of(c, "[data-testid=log]").await?;
    anyhow::ensure!(
        log.contains("build line 01")
            && log.contains("build line 40")
            && log.contains("live line after load"),
        "the job page shows the whole log: {log:?}"
    );
    let facts = text_of(c, "[data-testid=job-facts]").await?;
    anyhow::ensure!(
        facts.contains(&sha(1)[..10]) && facts.contains("master") && facts.contains("test"),
        "facts: {facts:?}"
    );
    app.store
        .perf_job_log_append(s.running, s.fence, &[log_line("second live line")])
        .await?;
    wait_contains(c, "[data-testid=log]", "second live line", 15).await?;
    std::fs::write(screenshot_dir().join("jobs-job.png"), c.screenshot().await?)?;
    // The job ends while the page is open: its state changes and the page reads the
    // job again (the error shows).
    let ended = app
        .store
        .perf_job_end(
            s.running,
            s.fence,
            PerfState::Failed,
            Some(("permanent", "build failed: exit 2")),
            &Finish::Dead {
                error: "build failed".into(),
            },
            &[],
            now_ms(),
        )
        .await?;
    anyhow::ensure!(ended, "the job did not end");
    wait_contains(c, "[data-testid=job-state]", "failed", 15).await?;
    wait_contains(c, "[data-testid=job-error]", "build failed: exit 2", 15).await?;

    // The queued PR job: links to the pull request and to the comparison with its base.
    c.goto(&format!("{}/jobs/{}", app.base, s.queued)).await?;
    wait_contains(c, "[data-testid=job-state]", "queued", 10).await?;
    let pr = c
        .find(Locator::Css("[data-testid=pr-link]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        pr == "https://github.com/example/svc/pull/7",
        "PR link {pr:?}"
    );
    let cmp = c
        .find(Locator::Css("[data-testid=compare-link]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        cmp == format!(
            "/projects/svc/compare?base=commit:{}&head=commit:{}",
            sha(1),
            sha(2)
        ),
        "compare link {cmp:?}"
    );
    // An anonymous visitor gets no buttons.
    let n = c
        .find_all(Locator::Css(
            "[data-testid=cancel-job], [data-testid=rerun-job]",
        ))
        .await?
        .len();
    anyhow::ensure!(n == 0, "an anonymous visitor sees {n} job buttons");
    Ok(())
}

async fn login(c: &Client, app: &TestApp, name: &str, next: &str) -> anyhow::Result<()> {
    c.goto(&format!("{}/login?next={next}", app.base)).await?;
    c.find(Locator::Css("form.login input[name=name]"))
        .await?
        .send_keys(name)
        .await?;
    c.find(Locator::Css("form.login input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn integration_checks(c: &Client, app: &TestApp, s: &Seeded) -> anyhow::Result<()> {
    login(c, app, "admin", "/projects/svc/integration").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=integration-form]"))
        .await?;
    let secret = text_of(c, "[data-testid=secret-state]").await?;
    anyhow::ensure!(secret == "set", "webhook secret state {secret:?}");
    let token = text_of(c, "[data-testid=token-state]").await?;
    anyhow::ensure!(token == "set", "token state {token:?}");
    let url = text_of(c, "[data-testid=webhook-url]").await?;
    anyhow::ensure!(
        url == format!("{}/api/v1/github/webhook", app.base),
        "webhook URL {url:?}"
    );
    let html = c.source().await?;
    anyhow::ensure!(
        !html.contains(WEBHOOK_SECRET) && !html.contains(TOKEN),
        "the integration page shows a secret"
    );
    std::fs::write(
        screenshot_dir().join("jobs-integration.png"),
        c.screenshot().await?,
    )?;

    // Save with the secret fields empty: the other fields change, the secrets stay.
    let sealed_before = app
        .store
        .github_integration(app.store.project("svc").await?.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no integration"))?;
    let masters = c
        .find(Locator::Css(
            "form.integration-form input[name=master_branches]",
        ))
        .await?;
    masters.clear().await?;
    masters.send_keys("main, release").await?;
    c.find(Locator::Css("[data-testid=save-integration]"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = app
            .store
            .github_integration(sealed_before.project_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no integration"))?;
        if now.master_branches == ["main", "release"] {
            break now;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the form did not save: {:?}",
            now.master_branches
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    anyhow::ensure!(
        after.webhook_secret == sealed_before.webhook_secret && after.token == sealed_before.token,
        "an empty secret field changed the stored secret"
    );
    // The admin sees the job buttons.
    c.goto(&format!("{}/jobs/{}", app.base, s.queued)).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=rerun-job]"))
        .await?;
    c.find(Locator::Css("[data-testid=cancel-job]")).await?;
    // The project page's jobs panel, with the way to the settings.
    c.goto(&format!("{}/projects/svc", app.base)).await?;
    wait_contains(c, "[data-testid=jobs-panel]", "Last master job", 10).await?;
    let panel = text_of(c, "[data-testid=jobs-panel]").await?;
    anyhow::ensure!(panel.contains("#7"), "jobs panel: {panel:?}");
    c.find(Locator::Css("[data-testid=integration-link]"))
        .await?;
    Ok(())
}

/// Non-admins get the refusal, with the status to match, and no secret.
async fn refusal_checks(app: &TestApp) -> anyhow::Result<()> {
    let viewer = app.login("viewer").await;
    let (status, body) = app.page(Some(&viewer), "/projects/svc/integration").await;
    anyhow::ensure!(status == 403, "viewer: status {status}");
    anyhow::ensure!(
        body.contains("data-testid=\"forbidden\"") && body.contains("forbidden"),
        "viewer sees no refusal"
    );
    anyhow::ensure!(
        !body.contains("integration-form") && !body.contains(WEBHOOK_SECRET),
        "viewer sees the form"
    );
    let (status, _) = app.page(None, "/projects/svc/integration").await;
    anyhow::ensure!(status == 401, "anonymous: status {status}");
    let admin = app.login("admin").await;
    let (status, body) = app.page(Some(&admin), "/projects/svc/integration").await;
    anyhow::ensure!(status == 200, "admin: status {status}");
    anyhow::ensure!(
        !body.contains(WEBHOOK_SECRET) && !body.contains(TOKEN),
        "the served page holds a secret"
    );
    Ok(())
}

/// The value of `perfwatch_csp_violations_total` summed over directives.
async fn csp_violations(app: &TestApp) -> anyhow::Result<f64> {
    let (_, text) = get_text(app, "/metrics").await;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("perfwatch_csp_violations_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::test]
async fn queue_job_and_integration_pages() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    let seeded = seed(&app).await;
    let mut driver = start_driver().await;

    let client = connect(&mut driver, "jobs").await;
    let mut result = queue_checks(&client, &app, &seeded).await;
    if result.is_ok() {
        result = job_page_checks(&client, &app, &seeded).await;
    }
    if result.is_ok() {
        result = integration_checks(&client, &app, &seeded).await;
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("jobs-failure.png"), png);
        }
    }
    // Always end the browser session, also when a check failed.
    let _ = client.close().await;
    drop(driver);
    result.unwrap();

    refusal_checks(&app).await.unwrap();
    // The pages above ran under the policy (and hydrated: the live tails showed).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = csp_violations(&app).await.unwrap();
    assert_eq!(seen, 0.0, "{seen} CSP violations on the job pages");
}
