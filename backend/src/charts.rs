//! The series-chart use case: read the points of a series (and its overlays), place
//! the markers, downsample what is too dense to draw.

use perfwatch_core::alerts::{ChartAlert, RangeAxis};
use perfwatch_core::chart::{
    ChartLine, ChartMarker, ChartQuery, SeriesChart, XMode, CHART_SHA_LEN,
};
use perfwatch_core::view::Marker;

use crate::error::Result;
use crate::store::AlertMark;
use crate::Store;

mod lines;

use lines::{x_mode_of, LineReads};

/// The chart of one series: its lines (main, overlays, branches) with the drawn
/// points' commits and validity, the markers and the alerts in the URL's range.
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
    let x_mode = x_mode_of(store, series_id, &query, branch_id).await?;

    let reads = LineReads {
        store,
        query: &query,
        x_mode,
        project_id: project.id,
        main_branch: &main_branch,
        branch_id,
    };
    let mut lines = vec![reads.main_line(&series).await?];
    lines.extend(reads.overlay_lines(&siblings).await?);
    lines.extend(reads.branch_lines(&series).await?);
    mark_drawn_points(store, &mut lines).await?;

    let raw_markers = store.markers(project.id, branch_id).await?;
    let markers = place_markers(&raw_markers, x_mode, &query);
    let alerts = place_alerts(store.alert_marks(series_id).await?, x_mode, &query);
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

/// Shas and validity only for the points drawn (at most MAX_CHART_POINTS a line):
/// the line reads come from the measurements table alone, which holds neither.
/// Every drawn point is looked up, so downsampling or tiles never hide that a
/// drawn point is invalid.
async fn mark_drawn_points(store: &Store, lines: &mut [ChartLine]) -> Result<()> {
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
    Ok(())
}

/// The markers in range, on the x axis (a marker without a commit on the main branch
/// has no place on a commit axis).
fn place_markers(raw: &[Marker], x_mode: XMode, query: &ChartQuery) -> Vec<ChartMarker> {
    raw.iter()
        .filter_map(|m| {
            let x = match x_mode {
                XMode::Commit => m.ord? as f64,
                XMode::Time => m.time as f64,
            };
            in_range(x, query).then(|| ChartMarker {
                x,
                name: m.name.clone(),
                kind: m.kind.clone(),
            })
        })
        .collect()
}

/// The alerts in range, placed at their change: on a commit axis at the first bad
/// commit (a time-indexed alert has none), on a time axis at the first bad point.
fn place_alerts(marks: Vec<AlertMark>, x_mode: XMode, query: &ChartQuery) -> Vec<ChartAlert> {
    marks
        .into_iter()
        .filter_map(|a| {
            let x = match (x_mode, a.axis) {
                (XMode::Commit, RangeAxis::Commit) => a.range.hi as f64,
                (XMode::Commit, RangeAxis::Time) => return None,
                (XMode::Time, _) => a.first_bad_at as f64,
            };
            in_range(x, query).then_some(ChartAlert {
                id: a.id,
                x,
                direction: a.direction,
                kind: a.kind,
                relative_change: a.relative_change,
                group_id: a.group_id,
                state: a.state,
            })
        })
        .collect()
}

fn in_range(x: f64, q: &ChartQuery) -> bool {
    q.from.is_none_or(|f| x >= f) && q.to.is_none_or(|t| x <= t)
}
