//! Issue 13's production pages in real headless Chromium, with a real Prometheus:
//! five weeks of hourly background jobs per minute (higher is better, nightly dip,
//! weekends) read by a schedule of source `prod`, deploys v1, v2 and v3, and a 25 %
//! drop at v3.
//!
//! - The deploy page of v3 draws, for jobs, the expected band, the deploy marker in the
//!   middle and the points after the deploy outside (below) the band, ringed; the
//!   schedule's query with a link to the source's graph.
//! - The release trend colours jobs at v3 as worse (v1, v2 the same) and its cell
//!   opens v3's deploy page.
//! - The series chart of jobs has the seasonal band behind its line.
//! - An admin's "Test query" evaluates an unsaved template against the real
//!   Prometheus over the latest load run's window and shows its value (10 requests/s),
//!   series count and coverage; a broken template shows the error naming the field.
//! - Under that result, "Save query" without a unit names the field; with one the
//!   query is saved into the source and listed under "Saved queries", and its delete
//!   button removes it.
//!
//! No page breaks its Content-Security-Policy. Saves a screenshot on failure under
//! target/browser/.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use fantoccini::{Client, Locator};
use perfwatch_backend::accounts::Role;
use perfwatch_backend::store::metric_sources::ScheduleSettings;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_core::model::{AnnotationInput, AnnotationKind, ResultInput, RunSubmission};
use perfwatch_core::units::Direction;
use perfwatch_server::testing::PASSWORD;
use perfwatch_sources::testing::{self as prom, RATE_A, T0};
use perfwatch_tests::browser::*;
use perfwatch_tests::*;

/// Friday 2026-11-27 14:00 UTC: v3.
fn v3() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap()
}

struct Seeded {
    markers: Vec<i64>,
    jobs: i64,
}

async fn seed(app: &TestApp, prom_url: &str) -> Seeded {
    let store = &app.store;
    store
        .create_project(&NewProject {
            slug: "shop".into(),
            name: None,
            main_branch: Some("main".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    let project = store.project("shop").await.unwrap().id;
    let config = format!(
        "url = \"{prom_url}\"\n\n[[query]]\nname = \"jobs_per_min\"\nunit = \"count\"\n\
         direction = \"higher\"\nquery = 'sum(rate(jobs_total[{{{{window}}}}])) * 60'\n"
    );
    let source = store
        .metric_source_put(project, "prod", &config, None, 0)
        .await
        .unwrap();
    let settings = ScheduleSettings {
        timezone: "UTC".into(),
        dry_run: false,
        marker_label: None,
        raw_days: 90,
    };
    // The schedule row only (no pass queued): the points below stand for what it read.
    store
        .metric_schedule_put(source, "jobs_per_min", 3600, 0, &settings, 0)
        .await
        .unwrap();
    let start = v3() - chrono::Duration::weeks(5);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        1.0 + ((seed % 2001) as f64 / 1000.0 - 1.0) * 0.02
    };
    for h in 0..(5 * 168 + 30) {
        let t = start + chrono::Duration::hours(h);
        let mut v = 1000.0 * (1.0 + 0.01 * h as f64 / 168.0) * noise();
        if !(6..22).contains(&t.hour()) {
            v *= 0.3;
        }
        if t.weekday().number_from_monday() >= 6 {
            v *= 0.6;
        }
        if t >= v3() {
            v *= 0.75;
        }
        let run = RunSubmission {
            project: "shop".into(),
            testbed: Some("prometheus:prod".into()),
            started_at: Some(t),
            finished_at: Some(t + chrono::Duration::hours(1)),
            trigger: Some("schedule".into()),
            run_key: Some(format!("h{h}")),
            results: vec![ResultInput {
                benchmark: "jobs_per_min".into(),
                measure: "jobs_per_min".into(),
                unit: "count".into(),
                direction: Some(Direction::Higher),
                samples: vec![v],
                ..ResultInput::default()
            }],
            ..RunSubmission::default()
        };
        let valid = perfwatch_core::validate::validate_run(run).unwrap();
        store
            .store_run(&valid, &IngestOptions::default())
            .await
            .unwrap();
    }
    let mut markers = Vec::new();
    for (name, at) in [
        ("v1", v3() - chrono::Duration::days(13)),
        ("v2", v3() - chrono::Duration::days(6)),
        ("v3", v3()),
    ] {
        let input = AnnotationInput {
            project: "shop".into(),
            name: name.into(),
            kind: AnnotationKind::Deploy,
            commit: None,
            time: Some(at),
            description: None,
        };
        markers.push(store.add_annotation(&input).await.unwrap());
    }
    // A load run over five minutes of the Prometheus data: the test query's window.
    let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
    let run = RunSubmission {
        project: "shop".into(),
        started_at: Some(at(T0)),
        finished_at: Some(at(T0 + 300)),
        trigger: Some("load".into()),
        results: vec![ResultInput {
            benchmark: "GET /".into(),
            measure: "latency".into(),
            unit: "ms".into(),
            samples: vec![12.0],
            ..ResultInput::default()
        }],
        ..RunSubmission::default()
    };
    let valid = perfwatch_core::validate::validate_run(run).unwrap();
    store
        .store_run(&valid, &IngestOptions::default())
        .await
        .unwrap();
    perfwatch_backend::accounts::create_user(store, "ops", PASSWORD, Some(Role::Admin))
        .await
        .unwrap();
    let jobs = store
        .list_series(project)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.benchmark == "jobs_per_min")
        .unwrap()
        .id;
    Seeded { markers, jobs }
}

async fn attr(c: &Client, css: &str, name: &str) -> anyhow::Result<String> {
    c.find(Locator::Css(css))
        .await?
        .attr(name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{css} has no {name}"))
}

async fn count(c: &Client, css: &str) -> anyhow::Result<usize> {
    Ok(c.find_all(Locator::Css(css)).await?.len())
}

async fn deploy_page(c: &Client, app: &TestApp, s: &Seeded, prom_url: &str) -> anyhow::Result<()> {
    c.goto(&format!(
        "{}/projects/shop/deploys/{}",
        app.base, s.markers[2]
    ))
    .await?;
    let row = "tr[data-verdict=lower]";
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(row))
        .await?;
    let band = attr(c, &format!("{row} svg.band-spark path.expected-band"), "d").await?;
    anyhow::ensure!(band.matches('L').count() >= 90, "a 49-point band: {band}");
    // The marker stands in the middle of the ±24 h sparkline (240 px wide).
    let x = attr(c, &format!("{row} svg.band-spark line.deploy-marker"), "x1").await?;
    anyhow::ensure!(x == "120" || x == "120.0", "marker at {x}");
    let after: usize = attr(c, row, "data-after").await?.parse()?;
    let outside: usize = attr(c, row, "data-after-outside").await?.parse()?;
    anyhow::ensure!(
        after >= 20 && outside * 10 >= after * 9,
        "{outside} of {after} outside"
    );
    let rings = count(c, &format!("{row} svg.band-spark circle.out")).await?;
    anyhow::ensure!(
        rings >= outside && rings <= outside + 2,
        "{rings} ringed, {outside} after"
    );
    let text = c
        .find(Locator::Css(&format!("{row} [data-testid=query-text]")))
        .await?
        .prop("textContent")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(text == "sum(rate(jobs_total[3600s])) * 60", "{text}");
    let link = attr(c, &format!("{row} details.query a"), "href").await?;
    anyhow::ensure!(
        link.starts_with(&format!("{prom_url}/graph?g0.expr=sum%28rate%28jobs_total")),
        "{link}"
    );
    Ok(())
}

async fn trend_page(c: &Client, app: &TestApp, s: &Seeded) -> anyhow::Result<()> {
    c.goto(&format!("{}/projects/shop/deploys/trend", app.base))
        .await?;
    let row = format!("[data-testid=release-trend] tr[data-series='{}']", s.jobs);
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&row))
        .await?;
    let cells = c
        .find_all(Locator::Css(&format!("{row} td[data-reading]")))
        .await?;
    let mut readings = Vec::new();
    for cell in &cells {
        readings.push(cell.attr("data-reading").await?.unwrap_or_default());
    }
    anyhow::ensure!(readings == ["same", "same", "worse"], "{readings:?}");
    let worse = c
        .find(Locator::Css(&format!(
            "{row} td[data-reading=worse] a.verdict.regression"
        )))
        .await?;
    let text = worse.text().await?;
    anyhow::ensure!(text.starts_with("-2"), "about −25 %: {text}");
    worse.click().await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid=deploy-verdicts]"))
        .await?;
    let url = c.current_url().await?;
    anyhow::ensure!(
        url.path() == format!("/projects/shop/deploys/{}", s.markers[2]),
        "{url}"
    );
    Ok(())
}

async fn series_chart(c: &Client, app: &TestApp, s: &Seeded) -> anyhow::Result<()> {
    c.goto(&format!("{}/series/{}", app.base, s.jobs)).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("svg.trend path.seasonal-band"))
        .await?;
    let d = attr(c, "svg.trend path.seasonal-band", "d").await?;
    anyhow::ensure!(
        d.matches('L').count() > 200,
        "a band over the range: {} points",
        d.len()
    );
    Ok(())
}

async fn test_query(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    c.goto(&format!(
        "{}/login?next=/projects/shop/metric-sources",
        app.base
    ))
    .await?;
    c.find(Locator::Css("form.login input[name=name]"))
        .await?
        .send_keys("ops")
        .await?;
    c.find(Locator::Css("form.login input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    let result = submit(
        c,
        "sum(rate(http_requests_total{endpoint=\"a\"}[{{window}}]))",
        "[data-testid=tested-value]",
    )
    .await?;
    let v: f64 = result.trim().parse()?;
    anyhow::ensure!((v - RATE_A).abs() < 0.01, "{v} requests/s over the run");
    let row = c
        .find(Locator::Css("[data-testid=query-test-result] tbody tr"))
        .await?
        .text()
        .await?;
    anyhow::ensure!(row.contains("100%"), "full coverage: {row}");
    let window = c
        .find(Locator::Css("[data-testid=query-test-result] p.muted"))
        .await?
        .text()
        .await?;
    anyhow::ensure!(window.contains("Over run "), "{window}");
    save_and_delete(c, app).await?;
    let err = submit(
        c,
        "sum(rate(http_requests_total[",
        "[data-testid=query-test-error]",
    )
    .await?;
    anyhow::ensure!(err.contains("query"), "the error names the field: {err}");
    Ok(())
}

/// Text of the first element matching `css` once it has some, within 10 s.
async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            let t = e.text().await?;
            if !t.is_empty() {
                return Ok(t);
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "no {css}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Under the tested query: "Save query" without a unit is refused naming the field;
/// with one it is saved, listed under "Saved queries" and stored in source `prod`;
/// its delete button removes it again.
async fn save_and_delete(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    let form = "[data-testid=save-query-form]";
    c.find(Locator::Css(&format!("{form} input[name=name]")))
        .await?
        .send_keys("requests_a")
        .await?;
    c.find(Locator::Css("[data-testid=save-query]"))
        .await?
        .click()
        .await?;
    let err = text_of(c, "[data-testid=save-query-error]").await?;
    anyhow::ensure!(
        err.contains("unit: must not be empty"),
        "the error names the field: {err}"
    );
    c.find(Locator::Css(&format!("{form} input[name=unit]")))
        .await?
        .send_keys("ops/s")
        .await?;
    c.find(Locator::Css(&format!(
        "{form} select[name=direction] option[value=higher]"
    )))
    .await?
    .click()
    .await?;
    c.find(Locator::Css("[data-testid=save-query]"))
        .await?
        .click()
        .await?;
    let saved = text_of(c, "[data-testid=query-saved]").await?;
    anyhow::ensure!(
        saved.contains("requests_a") && saved.contains("prod"),
        "{saved}"
    );
    let row = "[data-testid=saved-query][data-name=requests_a]";
    let listed = text_of(c, row).await?;
    anyhow::ensure!(
        listed.contains("http_requests_total") && listed.contains("higher is better"),
        "{listed}"
    );
    let project = app.store.project("shop").await?.id;
    let config = app.store.metric_source(project, "prod").await?.config;
    anyhow::ensure!(
        config.contains("name = \"requests_a\"") && config.contains("jobs_per_min"),
        "{config}"
    );
    c.find(Locator::Css(&format!("{row} [data-testid=delete-query]")))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(c, row).await? > 0 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "requests_a still listed after delete"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(count(c, "[data-testid=saved-query][data-name=jobs_per_min]").await? == 1);
    Ok(())
}

/// Types `query` into the form, presses "Test query" and returns the text of `want`.
/// Before hydration the button would post the form and reload the page, so each try
/// starts from the loaded form and waits for the answer.
async fn submit(c: &Client, query: &str, want: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(
                "[data-testid=query-form] textarea[name=query]",
            ))
            .await?;
        let area = c
            .find(Locator::Css(
                "[data-testid=query-form] textarea[name=query]",
            ))
            .await?;
        area.clear().await?;
        area.send_keys(query).await?;
        c.find(Locator::Css("[data-testid=test-query]"))
            .await?
            .click()
            .await?;
        let tried = Instant::now();
        while tried.elapsed() < Duration::from_secs(8) {
            if let Ok(e) = c.find(Locator::Css(want)).await {
                let t = e.text().await?;
                if !t.is_empty() {
                    return Ok(t);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no {want} after pressing Test query"
        );
    }
}

async fn csp_violations(app: &TestApp) -> f64 {
    let (_, text) = get_text(app, "/metrics").await;
    text.lines()
        .filter(|l| l.starts_with("perfwatch_csp_violations_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn deploy_band_release_trend_and_test_query() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    if !prom::available() {
        return;
    }
    let p = prom::start().await;
    let app = spawn_app(Db::Sqlite).await;
    let s = seed(&app, &p.url).await;
    let mut driver = start_driver().await;
    let client = connect(&mut driver, "production").await;
    let mut result = deploy_page(&client, &app, &s, &p.url).await;
    if result.is_ok() {
        result = trend_page(&client, &app, &s).await;
    }
    if result.is_ok() {
        result = series_chart(&client, &app, &s).await;
    }
    if result.is_ok() {
        result = test_query(&client, &app).await;
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("production-failure.png"), png);
        }
    }
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = csp_violations(&app).await;
    assert_eq!(seen, 0.0, "{seen} CSP violations on these pages");
}
