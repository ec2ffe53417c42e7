//! "Log out everywhere" in real headless Chromium: the same user logs in through the
//! /login form in two browsers (own profiles, own cookies); in the first, the account
//! page's button ends every session; the second browser's next page load shows it is
//! logged out. Saves a screenshot under target/browser/ on failure.
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

const NAME: &str = "ana";
const PASSWORD: &str = "correct horse battery";

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            return Ok(e.text().await?);
        }
        anyhow::ensure!(Instant::now() < deadline, "{css} not found");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn log_in(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    c.goto(&format!("{}/login?next=/account", app.base)).await?;
    c.find(Locator::Css("form.login input[name=name]"))
        .await?
        .send_keys(NAME)
        .await?;
    c.find(Locator::Css("form.login input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    let who = wait_for(c, "[data-testid=account-name]").await?;
    anyhow::ensure!(who.contains(NAME), "account page after login: {who:?}");
    Ok(())
}

async fn checks(first: &Client, second: &Client, app: &TestApp) -> anyhow::Result<()> {
    log_in(first, app).await?;
    log_in(second, app).await?;
    first.goto(&format!("{}/account", app.base)).await?;
    let sessions = wait_for(first, "[data-testid=session-count]").await?;
    anyhow::ensure!(sessions.starts_with("2 active sessions"), "{sessions:?}");
    first
        .find(Locator::Css("[data-testid=logout-all]"))
        .await?
        .click()
        .await?;
    // Back on the login page, without a session.
    wait_for(first, "form.login").await?;
    anyhow::ensure!(first.current_url().await?.path() == "/login");
    first.goto(&format!("{}/account", app.base)).await?;
    wait_for(first, "[data-testid=not-logged-in]").await?;
    // The other browser still holds its cookie, but its session is gone.
    second.goto(&format!("{}/account", app.base)).await?;
    wait_for(second, "[data-testid=not-logged-in]").await?;
    Ok(())
}

#[tokio::test]
async fn log_out_everywhere_ends_the_other_browsers_session() {
    let app = spawn_app(Db::Sqlite).await;
    perfwatch_backend::accounts::create_user(&app.store, NAME, PASSWORD, Some(Role::Viewer))
        .await
        .unwrap();
    let mut driver = start_driver().await;
    let first = connect(&mut driver, "account-1").await;
    let second = connect(&mut driver, "account-2").await;
    let result = checks(&first, &second, &app).await;
    if result.is_err() {
        if let Ok(png) = first.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("account-failure.png"), png);
        }
    }
    // Always end the browser sessions, also when a check failed.
    let _ = first.close().await;
    let _ = second.close().await;
    drop(driver);
    result.unwrap();
}
