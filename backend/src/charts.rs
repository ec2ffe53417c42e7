//! The series-chart use case: read the points of a series (and its overlays), place
//! the markers, downsample what is too dense to draw.

use perfwatch_core::alerts::{ChartAlert, RangeAxis};
use perfwatch_core::chart::{
    ChartLine, ChartMarker, ChartPoint, ChartQuery, SeriesChart, XMode, CHART_SHA_LEN,
    MAX_CHART_POINTS,
};
use perfwatch_core::downsample::minmax_indices;
use perfwatch_core::view::{Point, SeriesInfo};

use crate::error::Result;
use crate::store::PointFilter;
use crate::Store;

#[expect(
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "the page's reads (lines, overlays, band, rollups, annotations) in the order the chart needs them; to be split by job (issue 10 item 8)"
)]
pub async fn series_chart(store: &Store, series_id: i64, query: ChartQuery) -> Result<SeriesChart> {
    let series = store.series(series_id).await?;
    let project = store.project_ref(&series.project).await?;
    let main_branch = query
        .branch
        .clone()
        .unwrap_or_else(|| project.main_branch.clone());
    let branch_id = store.branch_id(project.id, &main_branch).await?;
    let siblings = store.sibling_series(series_id).await?;
    let branches = store.branches(project.id).await?;

    let main_filter = PointFilter {
        branch_id,
        ..Default::default()
    };
    // The x mode, when the URL does not say: by commit when the main line has commit
    // order, else by time.
    let x_mode = match query.x {
        Some(x) => x,
        None => {
            if store.has_commit_order(series_id, &main_filter).await? {
                XMode::Commit
            } else {
                XMode::Time
            }
        }
    };
    let range = range_filter(&query, x_mode);

    let main = store
        .chart_line(
            series_id,
            &range.with_branch(branch_id),
            x_mode,
            MAX_CHART_POINTS,
        )
        .await?;
    // A production series keeps hourly rollups of the points its retention dropped:
    // zoomed out past the raw points the chart shows those hours (p50, min–max),
    // zoomed in on recent days the raw points.
    let mut main_points = main.points;
    let mut main_total = main.total;
    if x_mode == XMode::Time {
        // Rollups exist only for hours whose raw points were dropped (an alert's kept
        // point shares its hour with the rollup of the others).
        let from = range.from_time.unwrap_or(i64::MIN);
        let to = range.to_time.map_or(i64::MAX, |t| t.saturating_add(1));
        let hours = store.rollups(series_id, from, to).await?;
        main_total += hours.len();
        main_points.splice(0..0, hours.iter().map(rollup_point));
    }
    let mut lines = vec![make_line(
        label(&series, &main_branch),
        series_id,
        &main_points,
        main_total,
        x_mode,
        &query,
    )];
    for id in &query.overlay {
        if let Some(s) = siblings.iter().find(|s| s.id == *id) {
            let pts = store
                .chart_line(
                    s.id,
                    &range.with_branch(branch_id),
                    x_mode,
                    MAX_CHART_POINTS,
                )
                .await?;
            lines.push(make_line(
                label(s, &main_branch),
                s.id,
                &pts.points,
                pts.total,
                x_mode,
                &query,
            ));
        }
    }
    for b in &query.branches {
        if *b == main_branch {
            continue;
        }
        if let Some(bid) = store.branch_id(project.id, b).await? {
            let pts = store
                .points_without_commits(
                    series_id,
                    &PointFilter {
                        branch_id: Some(bid),
                        ..Default::default()
                    },
                )
                .await?;
            // A branch numbers its own commits, so on a commit axis each of its points is
            // placed just after the main line's last commit measured at or before it
            // (this needs every main point, not the drawn ones).
            let pts = if x_mode == XMode::Commit {
                let main_all = store
                    .points_without_commits(series_id, &main_filter)
                    .await?;
                place_on_main(&pts, &main_all)
            } else {
                pts
            };
            let total = pts.len();
            lines.push(make_line(
                label(&series, b),
                series_id,
                &pts,
                total,
                x_mode,
                &query,
            ));
        }
    }
    // Shas and validity only for the points drawn (at most MAX_CHART_POINTS a line):
    // the line reads come from the measurements table alone, which holds neither.
    // Every drawn point is looked up, so downsampling or tiles never hide that a
    // drawn point is invalid.
    let drawn: Vec<i64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.run_id))
        .filter(|id| *id > 0)
        .collect();
    let marks = store.run_marks(&drawn).await?;
    for p in lines.iter_mut().flat_map(|l| l.points.iter_mut()) {
        if let Some(m) = marks.get(&p.run_id) {
            p.sha = m
                .sha
                .as_deref()
                .map(|s| s.chars().take(CHART_SHA_LEN).collect());
            p.invalid = m.invalid_reason.clone();
        }
    }
    let raw_markers = store.markers(project.id, branch_id).await?;
    let markers = raw_markers
        .iter()
        .filter_map(|m| {
            let x = match x_mode {
                XMode::Commit => m.ord? as f64,
                XMode::Time => m.time as f64,
            };
            in_range(x, &query).then(|| ChartMarker {
                x,
                name: m.name.clone(),
                kind: m.kind.clone(),
            })
        })
        .collect();
    let alerts = store
        .alert_marks(series_id)
        .await?
        .into_iter()
        .filter_map(|a| {
            let x = match (x_mode, a.axis) {
                (XMode::Commit, RangeAxis::Commit) => a.range.hi as f64,
                (XMode::Commit, RangeAxis::Time) => return None,
                (XMode::Time, _) => a.first_bad_at as f64,
            };
            in_range(x, &query).then_some(ChartAlert {
                id: a.id,
                x,
                direction: a.direction,
                kind: a.kind,
                relative_change: a.relative_change,
                group_id: a.group_id,
                state: a.state,
            })
        })
        .collect();
    Ok(SeriesChart {
        alerts,
        project,
        series,
        query,
        x_mode,
        lines,
        markers,
        raw_markers,
        siblings,
        branches,
        main_branch,
    })
}

/// An hourly rollup drawn as a point: its median, its range, no run (run id 0).
fn rollup_point(r: &perfwatch_core::rollup::Rollup) -> Point {
    Point {
        run_id: 0,
        ord: None,
        time: r.hour,
        sha: None,
        branch: None,
        n: r.n,
        median: r.p50,
        mean: r.mean,
        min: r.min,
        max: r.max,
        invalid_reason: None,
    }
}

fn label(s: &SeriesInfo, branch: &str) -> String {
    format!("{} · {}", s.testbed, branch)
}

fn in_range(x: f64, q: &ChartQuery) -> bool {
    q.from.is_none_or(|f| x >= f) && q.to.is_none_or(|t| x <= t)
}

fn place_on_main(branch: &[Point], main: &[Point]) -> Vec<Point> {
    let mut by_time: Vec<(i64, i64)> = main.iter().filter_map(|p| Some((p.time, p.ord?))).collect();
    by_time.sort_unstable();
    branch
        .iter()
        .map(|p| {
            let i = by_time.partition_point(|(t, _)| *t <= p.time);
            let ord = if i == 0 { 0 } else { by_time[i - 1].1 };
            Point {
                ord: Some(ord),
                ..p.clone()
            }
        })
        .collect()
}

/// The zoom range of the URL as a filter on the x axis.
fn range_filter(q: &ChartQuery, x: XMode) -> PointFilter {
    let lo = q.from.map(|v| v.ceil() as i64);
    let hi = q.to.map(|v| v.floor() as i64);
    match x {
        XMode::Commit => PointFilter {
            from_ord: lo,
            to_ord: hi,
            ..Default::default()
        },
        XMode::Time => PointFilter {
            from_time: lo,
            to_time: hi,
            ..Default::default()
        },
    }
}

/// `points` as a chart line: those in the URL's range, downsampled when still too
/// many (lines read in full, such as branch overlays). `total` counts the points the
/// range holds, drawn or not.
fn make_line(
    label: String,
    series_id: i64,
    points: &[Point],
    total: usize,
    x_mode: XMode,
    q: &ChartQuery,
) -> ChartLine {
    let pts: Vec<ChartPoint> = points
        .iter()
        .filter_map(|p| {
            let x = match x_mode {
                XMode::Commit => p.ord? as f64,
                XMode::Time => p.time as f64,
            };
            in_range(x, q).then(|| ChartPoint {
                x,
                y: p.median,
                lo: p.min,
                hi: p.max,
                run_id: p.run_id,
                sha: p.sha.clone(),
                time: p.time,
                n: p.n,
                invalid: p.invalid_reason.clone(),
            })
        })
        .collect();
    let mut pts = pts;
    if x_mode == XMode::Time {
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    let total = total.max(pts.len());
    let pts = if pts.len() > MAX_CHART_POINTS {
        let ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
        minmax_indices(&ys, MAX_CHART_POINTS)
            .into_iter()
            .map(|i| pts[i].clone())
            .collect()
    } else {
        pts
    };
    ChartLine {
        label,
        series_id,
        points: pts,
        total_points: total,
    }
}
