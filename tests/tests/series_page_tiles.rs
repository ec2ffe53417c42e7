//! The page of a long series (issue 16) on both databases: drawn from min/max tiles
//! with every spike and dip kept, zoomed out and zoomed in; runs posted after the tiles
//! were built show at once, many of them extend the tiles, and deleting a run drops it.
//! PostgreSQL variants fail without TEST_DATABASE_URL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_tests::long_series::{self, dip_low, spike_high};
use perfwatch_tests::{get_text, post_run, spawn_app, Db, TestApp};
use serde_json::json;

/// Long enough to be tiled (over 20,000 points) with a zoom range that is too, quick
/// enough for a debug build.
const POINTS: i64 = 200_000;

async fn page(app: &TestApp, sid: i64, query: &str) -> String {
    let (status, html) = get_text(app, &format!("/series/{sid}{query}")).await;
    assert_eq!(status, 200, "{html}");
    html
}

/// Whether the page's chart data holds the value (serialised as JSON, e.g. `5003.25`).
fn shows(html: &str, v: f64) -> bool {
    let text = v.to_string();
    html.match_indices(&text).any(|(at, _)| {
        let next = html[at + text.len()..].chars().next();
        let before = html[..at].chars().next_back();
        !next.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
    })
}

/// Every spike and dip among points `from..to` (0-based) is on the page, none outside.
fn assert_extremes(html: &str, from: i64, to: i64, what: &str) {
    let mut seen = 0;
    for i in 0..POINTS {
        let Some(v) = spike_high(i).or_else(|| dip_low(i)) else {
            continue;
        };
        if (from..to).contains(&i) {
            assert!(shows(html, v), "{what}: point {i} ({v}) is not drawn");
            seen += 1;
        } else {
            assert!(
                !shows(html, v),
                "{what}: point {i} ({v}) is outside the range but drawn"
            );
        }
    }
    assert!(seen >= 1, "{what}: the range holds no spike");
}

async fn long_series_page_keeps_every_spike(db: Db) {
    let app = spawn_app(db).await;
    let pool = long_series::connect(&app.database_url).await.unwrap();
    let mut s = long_series::create(&pool, "long").await.unwrap();
    long_series::append(&pool, &app.database_url, &mut s, POINTS)
        .await
        .unwrap();
    let sid = s.series_id;

    let html = page(&app, sid, "").await;
    assert!(
        html.contains(&format!("of {POINTS} points shown")),
        "{}",
        &html[..2000.min(html.len())]
    );
    assert_extremes(&html, 0, POINTS, "whole series");

    // Commits 40,001–140,000 (points 40,000–139,999): tiles inside, two cut at the ends.
    let html = page(&app, sid, "?x=commit&from=40001&to=140000").await;
    assert!(html.contains("of 100000 points shown"));
    assert_extremes(&html, 40_000, 140_000, "zoomed");
    // The same range on the time axis (point i at T0 + i minutes).
    let t = |i: i64| long_series::T0 + i * 60_000;
    let html = page(
        &app,
        sid,
        &format!("?x=time&from={}&to={}", t(40_000), t(139_999)),
    )
    .await;
    assert!(html.contains("of 100000 points shown"));
    assert_extremes(&html, 40_000, 140_000, "zoomed, time axis");
    // 4,000 points: read raw (too few for tiles), still downsampled to draw.
    let html = page(&app, sid, "?x=commit&from=101001&to=105000").await;
    assert!(html.contains("of 4000 points shown"), "narrow zoom");
    assert_extremes(&html, 101_000, 105_000, "narrow zoom");
    // 800 points (under the 860 a line draws): every one drawn.
    let html = page(&app, sid, "?x=commit&from=102601&to=103400").await;
    assert!(html.contains("(800 points)"), "narrower zoom");
    assert_extremes(&html, 102_600, 103_400, "narrower zoom");

    // A run posted after the tiles were built is drawn at once.
    let run = json!({
        "project": "long", "branch": "main", "testbed": "box",
        "commit": {"sha": "feed".repeat(10)},
        "results": [{"benchmark": "Long", "measure": "time", "unit": "ns", "samples": [9999.25]}],
    });
    let (status, body) = post_run(&app, &run).await;
    assert_eq!(status, 201, "{body}");
    let html = page(&app, sid, "").await;
    assert!(html.contains(&format!("of {} points shown", POINTS + 1)));
    assert!(shows(&html, 9999.25), "the newest run is not drawn");

    // Many more (over the 4,096 read raw beside the tiles): the tiles are extended.
    long_series::append(&pool, &app.database_url, &mut s, 10_000)
        .await
        .unwrap();
    let html = page(&app, sid, "").await;
    assert!(html.contains(&format!("of {} points shown", POINTS + 10_001)));
    for i in POINTS..POINTS + 10_000 {
        if let Some(v) = spike_high(i).or_else(|| dip_low(i)) {
            assert!(shows(&html, v), "appended point {i} ({v}) is not drawn");
        }
    }
    assert!(shows(&html, 9999.25) && shows(&html, spike_high(1_000).unwrap()));

    // Deleting a run (as retention does) takes its point off the chart.
    let first = spike_high(1_000).unwrap();
    sqlx::query("DELETE FROM runs WHERE id = (SELECT run_id FROM measurements WHERE median = $1)")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    let html = page(&app, sid, "").await;
    assert!(html.contains(&format!("of {} points shown", POINTS + 10_000)));
    assert!(!shows(&html, first), "a deleted point is still drawn");
    assert!(shows(&html, spike_high(6_000).unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_series_page_keeps_every_spike_sqlite() {
    long_series_page_keeps_every_spike(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_series_page_keeps_every_spike_postgres() {
    long_series_page_keeps_every_spike(Db::Postgres).await;
}
