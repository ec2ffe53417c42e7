//! The series page in real headless Chromium: the chart and markers render, and the
//! chart is interactive after hydration (hover tooltip, drag to zoom into a range that
//! lands in the URL, click a point to open its run), every page runs under its Content-Security-Policy without a
//! violation, and an injected inline script is blocked and reported. Saves screenshots
//! under target/browser/.
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

/// Dispatches a mouse event at a fraction of the chart's plot width.
const MOUSE_JS: &str = r#"
const [type, fx, fy] = arguments;
const svg = document.querySelector('svg.trend');
const r = svg.getBoundingClientRect();
const x = r.left + r.width * fx, y = r.top + r.height * fy;
svg.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y, bubbles: true}));
return true;
"#;

async fn seed(app: &TestApp) -> i64 {
    create_project(app, "driver").await;
    for i in 1..=40u64 {
        let v = if i > 20 { 130.0 } else { 100.0 } + (i % 3) as f64;
        let (s, _) = post_run(
            app,
            &run_json("driver", &sha(i), &[("BenchmarkFindOne", v)]),
        )
        .await;
        assert_eq!(s, 201);
    }
    for (name, i) in [("v1.0.0", 10u64), ("v1.1.0", 30)] {
        reqwest::Client::new()
            .post(format!("{}/api/v1/annotations", app.base))
            .bearer_auth(&app.token)
            .json(&json!({"project": "driver", "name": name, "kind": "release", "commit": sha(i)}))
            .send()
            .await
            .unwrap();
    }
    let (_, series) = get_json(app, "/api/v1/projects/driver/series").await;
    series[0]["id"].as_i64().unwrap()
}

async fn series_page_checks(c: &Client, app: &TestApp, id: i64) -> anyhow::Result<()> {
    c.goto(&format!("{}/series/{id}", app.base)).await?;
    let chart = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=trend-chart] svg.trend"))
        .await?;
    let points = c.find_all(Locator::Css("svg.trend circle.pt")).await?;
    anyhow::ensure!(
        points.len() == 40,
        "expected 40 points, found {}",
        points.len()
    );
    let markers = c
        .find_all(Locator::Css("svg.trend g.marker-release"))
        .await?;
    anyhow::ensure!(
        markers.len() == 2,
        "expected 2 release markers, found {}",
        markers.len()
    );
    let marker_text = markers[0].text().await?;
    anyhow::ensure!(
        marker_text.contains("v1.0.0"),
        "marker label {marker_text:?}"
    );
    let _ = chart;

    // Hydration: only the hydrated page reacts to the mouse. Keep hovering until the
    // tooltip shows (the wasm bundle loads asynchronously).
    let deadline = Instant::now() + Duration::from_secs(20);
    let tooltip = loop {
        c.execute(MOUSE_JS, vec![json!("mousemove"), json!(0.75), json!(0.5)])
            .await?;
        if let Ok(t) = c.find(Locator::Css("[data-testid=chart-tooltip]")).await {
            break t;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no tooltip after hovering: the page did not hydrate"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let text = tooltip.text().await?;
    anyhow::ensure!(text.contains("n = 3"), "tooltip shows n: {text:?}");
    anyhow::ensure!(
        text.contains("ns"),
        "tooltip shows the value with its unit: {text:?}"
    );
    let shas: Vec<String> = (1..=40).map(|i| sha(i)[..10].to_string()).collect();
    anyhow::ensure!(
        shas.iter().any(|s| text.contains(s.as_str())),
        "tooltip shows a commit sha: {text:?}"
    );
    std::fs::write(
        screenshot_dir().join("series-hover.png"),
        c.screenshot().await?,
    )?;

    // Drag from 20% to 60% of the width: the range lands in the URL and the chart redraws.
    c.execute(MOUSE_JS, vec![json!("mousedown"), json!(0.2), json!(0.5)])
        .await?;
    c.execute(MOUSE_JS, vec![json!("mousemove"), json!(0.6), json!(0.5)])
        .await?;
    c.execute(MOUSE_JS, vec![json!("mouseup"), json!(0.6), json!(0.5)])
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let url = loop {
        let url = c.current_url().await?;
        if url
            .query()
            .is_some_and(|q| q.contains("from=") && q.contains("to="))
        {
            break url;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "zoom did not change the URL: {url}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = c.find_all(Locator::Css("svg.trend circle.pt")).await?.len();
        if n > 0 && n < 40 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "zoomed chart still shows {n} points"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.find(Locator::Css("[data-testid=reset-zoom]")).await?;
    std::fs::write(
        screenshot_dir().join("series-zoomed.png"),
        c.screenshot().await?,
    )?;

    // The zoomed URL is a permalink: loading it fresh shows the same range.
    c.goto(url.as_str()).await?;
    let n = c.find_all(Locator::Css("svg.trend circle.pt")).await?.len();
    anyhow::ensure!(n > 0 && n < 40, "permalink shows {n} points");

    // A click (button down and up in one place) on a hovered point opens its run.
    let deadline = Instant::now() + Duration::from_secs(20);
    while c
        .find(Locator::Css("[data-testid=chart-tooltip]"))
        .await
        .is_err()
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "no tooltip on the permalink page: it did not hydrate"
        );
        c.execute(MOUSE_JS, vec![json!("mousemove"), json!(0.5), json!(0.5)])
            .await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for ev in ["mousedown", "mouseup"] {
        c.execute(MOUSE_JS, vec![json!(ev), json!(0.5), json!(0.5)])
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await?;
        if url.path().starts_with("/runs/") {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "clicking a point did not open its run: {url}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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

/// Every page under the policy (the series page's hydration was shown above, under the
/// same policy): no violation reported. Then an injected inline script is refused and
/// reported, which shows that the zero above is not silence.
async fn csp_checks(c: &Client, app: &TestApp, series: i64) -> anyhow::Result<()> {
    let (_, points) = get_json(app, &format!("/api/v1/series/{series}/points")).await;
    let run = points[0]["run_id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no run id in {points}"))?;
    for path in [
        "/".to_string(),
        "/projects/driver".into(),
        format!("/series/{series}"),
        format!("/runs/{run}"),
        "/alerts".into(),
        "/projects/driver/compare".into(),
        "/projects/driver/releases".into(),
        "/login".into(),
        "/admin/tokens".into(),
        "/admin/deliveries".into(),
    ] {
        c.goto(&format!("{}{path}", app.base)).await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("header.top"))
            .await?;
        // Let the wasm bundle load and hydrate before leaving the page.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = csp_violations(app).await?;
    anyhow::ensure!(
        seen == 0.0,
        "{seen} CSP violations on perfwatch's own pages"
    );

    let ran = c
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.__injected = 1';             document.body.appendChild(s); return window.__injected === 1;",
            vec![],
        )
        .await?;
    anyhow::ensure!(ran == json!(false), "an injected inline script ran");
    let deadline = Instant::now() + Duration::from_secs(10);
    while csp_violations(app).await? < 1.0 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the blocked script was not reported"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test]
async fn series_chart_renders_and_is_interactive_after_hydration() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    let id = seed(&app).await;
    let mut driver = start_driver().await;
    let client = connect(&mut driver, "browser").await;
    let mut result = series_page_checks(&client, &app, id).await;
    if result.is_ok() {
        result = csp_checks(&client, &app, id).await;
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("series-failure.png"), png);
        }
    }
    // Always end the browser session, also when a check failed.
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
}
