//! Invalid runs (the load runner's validity gate) in real headless Chromium: the run
//! page shows an "Invalid run" banner with the reason, the series chart draws the
//! invalid run as a hollow grey marker that is not on the line (server-rendered, and
//! still so after hydration, with the reason in the hover tooltip), the project's run
//! list tags it "invalid" with the reason in the title, the compare picker's branch
//! choice counts its invalid runs, and no page reports a CSP violation. Saves screenshots under target/browser/.
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
use serde_json::{json, Value};

const REASON: &str = "achieved rate 150/s is under 95 % of the target 200/s";

struct Seeded {
    series: i64,
    /// The invalid run on main.
    invalid: i64,
    valid: Vec<i64>,
    /// The invalid run on the branch `tuning`.
    branch_invalid: i64,
}

/// Runs: commits 1–6 on main at ~100 ms; the run at commit 4 is three times slower and
/// marked invalid. Then two runs on the branch `tuning`, the second invalid.
async fn seed(app: &TestApp) -> Seeded {
    create_project(app, "gate").await;
    let mut invalid = 0;
    let mut branch_invalid = 0;
    let mut valid = Vec::new();
    for i in 1..=8u64 {
        let bad = i == 4 || i == 8;
        let branch = if i > 6 { "tuning" } else { "main" };
        let level = if bad { 300.0 } else { 100.0 + i as f64 };
        let mut metadata = json!({"harness": "perfwatch-loadgen", "valid": !bad});
        if bad {
            metadata["invalid_reasons"] = json!([REASON]);
        }
        let body = json!({
            "project": "gate", "branch": branch, "testbed": "gen-1",
            "commit": {"sha": sha(i), "message": format!("commit {i}")},
            "metadata": metadata,
            "results": [{"benchmark": "create_group", "measure": "latency", "unit": "ms",
                         "samples": [level * 0.99, level, level * 1.01]}]
        });
        let (s, r) = post_run(app, &body).await;
        assert_eq!(s, 201, "{r}");
        let id = r["run_id"].as_i64().unwrap();
        match (bad, branch) {
            (true, "main") => invalid = id,
            (true, _) => branch_invalid = id,
            (false, _) => valid.push(id),
        }
    }
    let (_, series) = get_json(app, "/api/v1/projects/gate/series").await;
    Seeded {
        series: series[0]["id"].as_i64().unwrap(),
        invalid,
        valid,
        branch_invalid,
    }
}

/// The REST answers carry the reason: the run, and its point of the series.
async fn rest_checks(app: &TestApp, series: i64, invalid: [i64; 2]) -> anyhow::Result<()> {
    let (s, run) = get_json(app, &format!("/api/v1/runs/{}", invalid[0])).await;
    anyhow::ensure!(s == 200, "GET run: {s}");
    anyhow::ensure!(run["invalid_reason"] == json!(REASON), "run answer {run}");
    let (_, points) = get_json(app, &format!("/api/v1/series/{series}/points")).await;
    let reasons: Vec<(i64, Value)> = points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["run_id"].as_i64().unwrap(), p["invalid_reason"].clone()))
        .collect();
    for (run, why) in &reasons {
        let want = if invalid.contains(run) {
            json!(REASON)
        } else {
            Value::Null
        };
        anyhow::ensure!(*why == want, "point of run {run}: {why}");
    }
    Ok(())
}

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
    Ok(c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await?)
}

async fn run_page_checks(
    c: &Client,
    app: &TestApp,
    invalid: i64,
    valid: i64,
) -> anyhow::Result<()> {
    c.goto(&format!("{}/runs/{invalid}", app.base)).await?;
    let banner = wait_for(c, "[data-testid=invalid-banner]").await?;
    let text = banner.text().await?;
    anyhow::ensure!(
        text.contains("Invalid run") && text.contains(REASON),
        "banner {text:?}"
    );
    anyhow::ensure!(
        text.contains("left out of change detection") && text.contains("comparisons"),
        "the banner says what the run is left out of: {text:?}"
    );
    std::fs::write(
        screenshot_dir().join("invalid-run.png"),
        c.screenshot().await?,
    )?;

    // A valid run has no banner.
    c.goto(&format!("{}/runs/{valid}", app.base)).await?;
    wait_for(c, "[data-testid=run-measurements]").await?;
    let banners = c
        .find_all(Locator::Css("[data-testid=invalid-banner]"))
        .await?;
    anyhow::ensure!(banners.is_empty(), "a valid run shows the invalid banner");
    Ok(())
}

/// `(cx, cy)` of the invalid marker and the polyline's vertices, in SVG units.
async fn geometry(c: &Client) -> anyhow::Result<((f64, f64), Vec<(f64, f64)>)> {
    let v = c
        .execute(
            r#"const m = document.querySelector('svg.trend [data-testid=invalid-point]');
               const line = document.querySelector('svg.trend polyline.median');
               return [m ? [+m.getAttribute('cx'), +m.getAttribute('cy')] : null,
                       line ? line.getAttribute('points') : ''];"#,
            vec![],
        )
        .await?;
    let m = v[0]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no invalid marker on the chart"))?;
    let marker = (m[0].as_f64().unwrap(), m[1].as_f64().unwrap());
    let line = v[1]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|xy| {
            let (x, y) = xy.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect();
    Ok((marker, line))
}

async fn chart_checks(c: &Client, app: &TestApp, series: i64, invalid: i64) -> anyhow::Result<()> {
    c.goto(&format!("{}/series/{series}", app.base)).await?;
    wait_for(c, "[data-testid=trend-chart] svg.trend").await?;
    let check_drawing = |stage: &'static str| async move {
        let marks = c
            .find_all(Locator::Css("svg.trend [data-testid=invalid-point]"))
            .await?;
        anyhow::ensure!(marks.len() == 1, "{stage}: {} invalid markers", marks.len());
        let run = marks[0].attr("data-run").await?.unwrap_or_default();
        anyhow::ensure!(run == invalid.to_string(), "{stage}: marker of run {run}");
        let title = c
            .execute(
                "return document.querySelector('svg.trend [data-testid=invalid-point] title').textContent;",
                vec![],
            )
            .await?;
        anyhow::ensure!(
            title.as_str().is_some_and(|t| t.contains(REASON)),
            "{stage}: marker title {title}"
        );
        // Hollow grey, not the line's colour.
        let style = c
            .execute(
                r#"const s = getComputedStyle(document.querySelector('svg.trend [data-testid=invalid-point]'));
                   return [s.fill, s.stroke];"#,
                vec![],
            )
            .await?;
        anyhow::ensure!(
            style == json!(["rgb(255, 255, 255)", "rgb(156, 163, 175)"]),
            "{stage}: marker style {style}"
        );
        let dots = c.find_all(Locator::Css("svg.trend circle.pt")).await?.len();
        anyhow::ensure!(
            dots == 5,
            "{stage}: {dots} line dots, expected the 5 valid runs"
        );
        let ((mx, my), line) = geometry(c).await?;
        anyhow::ensure!(
            line.len() == 5,
            "{stage}: the line joins {} points",
            line.len()
        );
        anyhow::ensure!(
            line.iter()
                .all(|(x, y)| (x - mx).abs() > 1.0 || (y - my).abs() > 1.0),
            "{stage}: the invalid point ({mx}, {my}) is a vertex of the line {line:?}"
        );
        // Between its neighbours the line stays at the valid level, far below the
        // invalid point (three times slower, so higher up means a smaller y).
        let neighbours: Vec<f64> = line
            .windows(2)
            .filter(|w| w[0].0 < mx && w[1].0 > mx)
            .map(|w| (w[0].1 + w[1].1) / 2.0)
            .collect();
        anyhow::ensure!(
            neighbours.len() == 1 && neighbours[0] - my > 50.0,
            "{stage}: the line passes the invalid point at {neighbours:?}, marker y {my}"
        );
        let legend = c
            .find(Locator::Css("[data-testid=legend-invalid]"))
            .await?
            .text()
            .await?;
        anyhow::ensure!(
            legend.contains("1 invalid run"),
            "{stage}: legend {legend:?}"
        );
        Ok::<(), anyhow::Error>(())
    };
    check_drawing("server-rendered").await?;

    // After hydration the chart reacts to the mouse: hovering the invalid marker shows
    // the reason in the tooltip, and the hydrated drawing is the same.
    let deadline = Instant::now() + Duration::from_secs(20);
    let tooltip = loop {
        c.execute(
            r#"const m = document.querySelector('svg.trend [data-testid=invalid-point]');
               const r = m.getBoundingClientRect();
               document.querySelector('svg.trend').dispatchEvent(new MouseEvent('mousemove',
                   {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true}));
               return true;"#,
            vec![],
        )
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
    anyhow::ensure!(
        text.contains(&format!("Invalid run: {REASON}")),
        "tooltip of the invalid point: {text:?}"
    );
    std::fs::write(
        screenshot_dir().join("invalid-run-chart.png"),
        c.screenshot().await?,
    )?;
    check_drawing("hydrated").await?;
    Ok(())
}

async fn run_list_checks(c: &Client, app: &TestApp, invalid: [i64; 2]) -> anyhow::Result<()> {
    c.goto(&format!("{}/projects/gate", app.base)).await?;
    wait_for(c, "[data-testid=recent-runs]").await?;
    let rows = c.find_all(Locator::Css("[data-testid=run-row]")).await?;
    anyhow::ensure!(rows.len() == 8, "{} runs listed", rows.len());
    let mut tagged = Vec::new();
    for r in &rows {
        let run = r.attr("data-run").await?.unwrap_or_default();
        if let Ok(tag) = r.find(Locator::Css("[data-testid=invalid-tag]")).await {
            let title = tag.attr("title").await?.unwrap_or_default();
            anyhow::ensure!(
                tag.text().await? == "invalid" && title.contains(REASON),
                "tag of run {run}: title {title:?}"
            );
            tagged.push(run);
        }
    }
    // Newest first: the branch's invalid run, then main's.
    let want: Vec<String> = [invalid[1], invalid[0]]
        .iter()
        .map(|i| i.to_string())
        .collect();
    anyhow::ensure!(
        tagged == want,
        "runs tagged invalid: {tagged:?}, want {want:?}"
    );
    std::fs::write(
        screenshot_dir().join("invalid-run-list.png"),
        c.screenshot().await?,
    )?;

    // The compare picker's branch choice says how many of its runs are invalid.
    c.goto(&format!("{}/projects/gate/compare", app.base))
        .await?;
    let choice = wait_for(c, "[data-testid=branch-choice][data-branch=tuning]").await?;
    let tag = choice
        .find(Locator::Css("[data-testid=invalid-tag]"))
        .await?;
    let (text, title) = (
        tag.text().await?,
        tag.attr("title").await?.unwrap_or_default(),
    );
    anyhow::ensure!(
        text == "1 invalid" && title.contains("1 of 2 runs invalid") && title.contains(REASON),
        "picker tag {text:?}, title {title:?}"
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
async fn invalid_runs_are_marked_on_the_run_page_the_chart_and_the_run_list() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    let Seeded {
        series,
        invalid,
        valid,
        branch_invalid,
    } = seed(&app).await;
    rest_checks(&app, series, [invalid, branch_invalid])
        .await
        .unwrap();
    let mut driver = start_driver().await;
    let client = connect(&mut driver, "browser_invalid_runs").await;
    let mut result = run_page_checks(&client, &app, invalid, valid[0]).await;
    if result.is_ok() {
        result = chart_checks(&client, &app, series, invalid).await;
    }
    if result.is_ok() {
        result = run_list_checks(&client, &app, [invalid, branch_invalid]).await;
    }
    if result.is_ok() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        result = match csp_violations(&app).await {
            Ok(0.0) => Ok(()),
            Ok(n) => Err(anyhow::anyhow!("{n} CSP violations on these pages")),
            Err(e) => Err(e),
        };
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("invalid-runs-failure.png"), png);
        }
    }
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
}
