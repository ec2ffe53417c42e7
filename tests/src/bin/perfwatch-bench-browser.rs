//! `cargo run --release -p perfwatch-tests --bin perfwatch-bench-browser [-- --loads 7]`
//!
//! Time to interactive of the series page in headless Chromium, read from the
//! browser's own performance timeline. Build the browser bundle first
//! (`scripts/build-site.sh`); the in-process server serves it from `target/site/pkg`.
//!
//! The server runs in this process on a fresh SQLite file with the demo data set.
//! Each of `--loads` rounds opens a new browser session (its own empty profile), loads
//! `/series/{id}` of the demo's `go-driver` project (cold: nothing cached), then reloads
//! it (warm: the wasm comes from the HTTP cache). For every load it waits for the mark
//! the trend chart sets from its first effect (`perfwatch:chart-interactive`, see
//! app/src/marks.rs: its mouse handlers are attached) and reads, relative to the start
//! of navigation: the end of the HTML response, DOMContentLoaded, the end of the wasm
//! download, the `perfwatch:hydrated` mark and the chart mark. Prints every load and
//! the medians. docs/benchmarks.md records the figures with this command.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use fantoccini::Client;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp};
use perfwatch_tests::browser::{connect, start_driver};
use serde_json::Value;

/// Everything the bench reads from one page load, or null while the chart is not
/// interactive yet.
const TIMELINE_JS: &str = r#"
const chart = performance.getEntriesByName('perfwatch:chart-interactive');
if (!chart.length) return null;
const nav = performance.getEntriesByType('navigation')[0];
const wasm = performance.getEntriesByType('resource').find(e => e.name.includes('perfwatch_bg.wasm'));
const hyd = performance.getEntriesByName('perfwatch:hydrated');
return {
  interactive: chart[0].startTime,
  hydrated: hyd.length ? hyd[0].startTime : null,
  html_end: nav.responseEnd,
  html_bytes: nav.encodedBodySize,
  dom_content_loaded: nav.domContentLoadedEventEnd,
  wasm_end: wasm ? wasm.responseEnd : null,
  wasm_bytes: wasm ? wasm.encodedBodySize : null,
  wasm_transfer: wasm ? wasm.transferSize : null,
};
"#;

const FIELDS: [&str; 5] = [
    "html_end",
    "dom_content_loaded",
    "wasm_end",
    "hydrated",
    "interactive",
];

async fn timeline(c: &Client) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = c.execute(TIMELINE_JS, vec![]).await?;
        if !v.is_null() {
            return Ok(v);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the chart did not become interactive within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn row(label: &str, v: &Value) {
    let ms = |k: &str| v[k].as_f64().map_or("-".to_string(), |x| format!("{x:.0}"));
    println!(
        "  {label:<5} html {:>5} ms · DOMContentLoaded {:>5} ms · wasm loaded {:>5} ms · hydrated {:>5} ms · interactive {:>5} ms · wasm {} bytes encoded, {} transferred",
        ms("html_end"),
        ms("dom_content_loaded"),
        ms("wasm_end"),
        ms("hydrated"),
        ms("interactive"),
        v["wasm_bytes"],
        v["wasm_transfer"],
    );
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn summary(label: &str, loads: &[Value]) {
    let parts: Vec<String> = FIELDS
        .iter()
        .map(|f| {
            let xs: Vec<f64> = loads.iter().filter_map(|v| v[*f].as_f64()).collect();
            format!("{f} {:.0} ms", median(xs))
        })
        .collect();
    println!(
        "median {label} ({} loads): {}",
        loads.len(),
        parts.join(" · ")
    );
}

/// The demo series page the bench loads: the go-driver project's first series.
async fn demo_series(app: &TestApp) -> anyhow::Result<i64> {
    let said = perfwatch_backend::demo::load(&app.store).await?;
    println!("demo: {said}");
    let list: Value = reqwest::get(format!("{}/api/v1/projects/go-driver/series", app.base))
        .await?
        .error_for_status()?
        .json()
        .await?;
    list[0]["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("the demo project has no series: {list}"))
}

fn bundle_report() {
    let pkg = perfwatch_server::config::default_site_root().join("pkg");
    let size = |f: &str| std::fs::metadata(pkg.join(f)).map(|m| m.len()).ok();
    match (size("perfwatch_bg.wasm"), size("perfwatch_bg.wasm.gz")) {
        (Some(raw), Some(gz)) => println!(
            "bundle {}: perfwatch_bg.wasm {raw} bytes, {gz} bytes gzip",
            pkg.display()
        ),
        _ => println!(
            "no bundle in {} (run scripts/build-site.sh): the pages will not hydrate",
            pkg.display()
        ),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let loads: usize = match args.iter().position(|a| a == "--loads") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .expect("--loads N (N ≥ 1)"),
        None => 7,
    };
    bundle_report();
    let app = spawn_app_with(Db::Sqlite, |c| c.detect_inline = false).await;
    let id = demo_series(&app).await?;
    let url = format!("{}/series/{id}", app.base);
    println!("loading {url} {loads} times, cold then warm, in headless Chromium");
    let mut driver = start_driver().await;
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for i in 0..loads {
        let c = connect(&mut driver, &format!("bench{i}")).await;
        // Close the session whatever happened, or Chromium processes stay behind.
        let result = async {
            c.goto(&url).await?;
            let first = timeline(&c).await?;
            c.refresh().await?;
            let second = timeline(&c).await?;
            anyhow::Ok((first, second))
        }
        .await;
        let _ = c.close().await;
        let (first, second) = result?;
        println!("round {}:", i + 1);
        row("cold", &first);
        row("warm", &second);
        cold.push(first);
        warm.push(second);
    }
    summary("cold", &cold);
    summary("warm", &warm);
    Ok(())
}
