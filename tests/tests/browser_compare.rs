//! The compare page in real headless Chromium: a permalink shows the rows and their
//! verdicts, a reload shows the same rows, and the "only significant" link changes
//! the URL and filters the rows through client-side navigation (so the page hydrated).
//! Saves screenshots under target/browser/.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use perfwatch_tests::browser::*;
use perfwatch_tests::*;
use serde_json::json;

/// Ten samples around `level`, ±1 %.
fn samples(level: f64, seed: usize) -> Vec<f64> {
    (0..10)
        .map(|k| level * (1.0 + 0.002 * (((k * 7 + seed * 3) % 11) as f64 - 5.0)))
        .collect()
}

/// Two releases: `Find/one` 10 % slower, `Find/two` 20 % faster, `Find/three` and
/// `Find/four` unchanged.
async fn seed(app: &TestApp) {
    create_project(app, "driver").await;
    let names = ["Find/one", "Find/two", "Find/three", "Find/four"];
    for (i, levels) in [
        (1u64, [100.0, 200.0, 50.0, 70.0]),
        (2, [110.0, 160.0, 50.0, 70.0]),
    ] {
        let body = json!({
            "project": "driver", "branch": "main", "testbed": "ci-linux",
            "commit": {"sha": sha(i)},
            "results": names.iter().zip(levels).enumerate().map(|(k, (b, v))| json!({
                "benchmark": b, "measure": "time", "unit": "ns/op",
                "samples": samples(v, i as usize * 10 + k)
            })).collect::<Vec<_>>()
        });
        let (s, r) = post_run(app, &body).await;
        assert_eq!(s, 201, "{r}");
    }
    for (name, i) in [("v1.0.0", 1u64), ("v1.1.0", 2)] {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/annotations", app.base))
            .bearer_auth(&app.token)
            .json(&json!({"project": "driver", "name": name, "kind": "release", "commit": sha(i)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
}

/// `(benchmark, verdict)` of every row, in order.
async fn rows(c: &Client) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for tr in c
        .find_all(Locator::Css("[data-testid=compare-rows] tbody tr"))
        .await?
    {
        let verdict = tr.attr("data-verdict").await?.unwrap_or_default();
        let name = tr.find(Locator::Css("td a")).await?.text().await?;
        out.push((name, verdict));
    }
    Ok(out)
}

async fn compare_page_checks(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    let permalink = format!(
        "{}/projects/driver/compare?base=release%3Av1.0.0&head=release%3Av1.1.0",
        app.base
    );
    c.goto(&permalink).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=compare-rows]"))
        .await?;
    let first = rows(c).await?;
    let expected = vec![
        ("Find/one".to_string(), "regression".to_string()),
        ("Find/two".to_string(), "improvement".to_string()),
        ("Find/four".to_string(), "no_change".to_string()),
        ("Find/three".to_string(), "no_change".to_string()),
    ];
    anyhow::ensure!(first == expected, "rows {first:?}");
    let summary = c
        .find(Locator::Css("[data-testid=summary]"))
        .await?
        .text()
        .await?;
    anyhow::ensure!(
        summary.contains("1 regressions") && summary.contains("1 improvements"),
        "summary {summary:?}"
    );
    let dots = c.find_all(Locator::Css("svg.dots circle")).await?.len();
    anyhow::ensure!(dots == 80, "dot strips show every sample: {dots}");
    let link = c
        .find(Locator::Css("[data-testid=compare-rows] tbody tr td a"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(
        link.starts_with("/series/") && link.contains("from=") && link.contains("to="),
        "row links to the series chart around both points: {link}"
    );
    std::fs::write(screenshot_dir().join("compare.png"), c.screenshot().await?)?;

    // Reload: the permalink shows the same rows.
    c.refresh().await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=compare-rows]"))
        .await?;
    let again = rows(c).await?;
    anyhow::ensure!(again == first, "after reload {again:?}");

    // Give the bundle time to hydrate, then mark the document: a client-side
    // navigation (hydrated router) keeps the mark, a full page load would drop it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = c
            .execute(
                "return !!(window.__wbg_perfwatch || document.querySelector('script[type=module]')) && performance.getEntriesByType('resource').some(e => e.name.endsWith('.wasm'));",
                vec![],
            )
            .await?;
        if ready.as_bool() == Some(true) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the wasm bundle never loaded");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.execute("window.__compareMark = 42; return true;", vec![])
        .await?;
    c.find(Locator::Css("[data-testid=toggle-significant]"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await?;
        let filtered = rows(c).await.unwrap_or_default();
        if url.query().is_some_and(|q| q.contains("only=significant")) && filtered.len() == 2 {
            anyhow::ensure!(
                filtered == first[..2],
                "only significant keeps the two changed series: {filtered:?}"
            );
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "toggle did not filter: url {url}, rows {filtered:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mark = c
        .execute("return window.__compareMark || 0;", vec![])
        .await?;
    anyhow::ensure!(
        mark.as_i64() == Some(42),
        "the toggle reloaded the page instead of navigating in the hydrated app"
    );
    std::fs::write(
        screenshot_dir().join("compare-significant.png"),
        c.screenshot().await?,
    )?;
    // The filtered view is itself a permalink.
    c.refresh().await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=compare-rows]"))
        .await?;
    let reloaded = rows(c).await?;
    anyhow::ensure!(reloaded == first[..2], "filtered permalink {reloaded:?}");
    Ok(())
}

#[tokio::test]
async fn compare_permalink_shows_same_rows_and_filters_in_the_browser() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    seed(&app).await;
    let mut driver = start_driver().await;
    let client = connect(&mut driver, "browser_compare").await;
    let result = compare_page_checks(&client, &app).await;
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("compare-failure.png"), png);
        }
    }
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
}
