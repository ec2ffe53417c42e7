//! Series charts read through the store on both databases: zoom ranges, the x axis,
//! and the downsampling of long lines in SQL (lowest and highest point of each bucket,
//! so spikes survive). PostgreSQL variants fail without TEST_DATABASE_URL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::charts::series_chart;
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject, PointFilter};
use perfwatch_backend::Store;
use perfwatch_core::chart::{ChartQuery, XMode, MAX_CHART_POINTS};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

perfwatch_backend::on_both!(
    zoom_range_keeps_the_points_inside_it,
    long_line_is_downsampled_in_sql_keeping_spikes,
    time_axis_for_series_without_commits,
);

/// Commit-indexed runs 1..=n on main; `value(i)` is the one sample of commit i.
async fn commit_runs(store: &Store, n: usize, value: impl Fn(usize) -> f64) -> i64 {
    store
        .create_project(&NewProject {
            slug: "charts".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
    for i in 1..=n {
        let run = json!({
            "project": "charts",
            "commit": {"sha": format!("{i:040x}")},
            "started_at": "2026-01-01T00:00:00Z",
            "results": [{"benchmark": "BenchmarkFind", "measure": "time", "unit": "ns", "samples": [value(i)]}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(store, &run, &IngestOptions::default())
            .await
            .unwrap();
    }
    store
        .list_series(store.project("charts").await.unwrap().id)
        .await
        .unwrap()[0]
        .id
}

async fn zoom_range_keeps_the_points_inside_it(store: Store) {
    let id = commit_runs(&store, 40, |i| 100.0 + i as f64).await;
    let query = ChartQuery {
        from: Some(8.4),
        to: Some(24.6),
        ..Default::default()
    };
    let chart = series_chart(&store, id, query).await.unwrap();
    assert_eq!(chart.x_mode, XMode::Commit);
    let line = &chart.lines[0];
    let xs: Vec<f64> = line.points.iter().map(|p| p.x).collect();
    assert_eq!(xs, (9..=24).map(|x| x as f64).collect::<Vec<_>>());
    assert_eq!(line.total_points, 16);
    // Each drawn point still knows its run and commit (tooltip, click to the run page).
    assert!(line.points.iter().all(|p| p.sha.is_some() && p.run_id > 0));
    assert_eq!(line.points[0].y, 109.0);
}

async fn long_line_is_downsampled_in_sql_keeping_spikes(store: Store) {
    // Well over MAX_CHART_POINTS (so the line is downsampled in SQL), with room for the
    // spikes, the dip and the 500-commit zoom below.
    let n = 2_317;
    assert!(n > 2 * MAX_CHART_POINTS);
    let spikes = [777usize, 1501, 2222];
    let id = commit_runs(&store, n, |i| {
        if spikes.contains(&i) {
            5000.0
        } else if i == 1999 {
            1.0
        } else {
            100.0 + (i % 7) as f64
        }
    })
    .await;
    let chart = series_chart(&store, id, ChartQuery::default())
        .await
        .unwrap();
    let line = &chart.lines[0];
    assert_eq!(line.total_points, n);
    assert!(
        line.points.len() <= MAX_CHART_POINTS,
        "{} points drawn",
        line.points.len()
    );
    assert!(
        line.points.len() >= MAX_CHART_POINTS / 2,
        "{} points drawn",
        line.points.len()
    );
    // Every spike and the dip are drawn, at their own commit.
    for s in spikes {
        assert!(
            line.points.iter().any(|p| p.x == s as f64 && p.y == 5000.0),
            "spike at {s} lost"
        );
    }
    assert!(line.points.iter().any(|p| p.x == 1999.0 && p.y == 1.0));
    // In x order, no point twice.
    assert!(line.points.windows(2).all(|w| w[0].x < w[1].x));

    // The same through the store directly, on a zoomed range of 500 commits: all drawn.
    let f = PointFilter {
        from_ord: Some(1000),
        to_ord: Some(1499),
        ..Default::default()
    };
    let part = store
        .chart_line(id, &f, XMode::Commit, MAX_CHART_POINTS)
        .await
        .unwrap();
    assert_eq!(part.total, 500);
    assert_eq!(part.points.len(), 500);
}

async fn time_axis_for_series_without_commits(store: Store) {
    store
        .create_project(&NewProject {
            slug: "prod".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    for h in 0..30 {
        let run = json!({
            "project": "prod",
            "started_at": format!("2026-02-01T10:{h:02}:00Z"),
            "results": [{"benchmark": "jobs", "measure": "jobs_per_minute", "unit": "count", "direction": "higher", "samples": [50.0 + h as f64]}],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(&store, &run, &IngestOptions::default())
            .await
            .unwrap();
    }
    let id = store
        .list_series(store.project("prod").await.unwrap().id)
        .await
        .unwrap()[0]
        .id;
    let chart = series_chart(&store, id, ChartQuery::default())
        .await
        .unwrap();
    assert_eq!(chart.x_mode, XMode::Time);
    let ys: Vec<f64> = chart.lines[0].points.iter().map(|p| p.y).collect();
    assert_eq!(ys, (0..30).map(|h| 50.0 + h as f64).collect::<Vec<_>>());
}
