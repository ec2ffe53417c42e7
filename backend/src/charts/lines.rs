//! The lines of a series chart: the main line (with the hourly rollups of a
//! production series), sibling overlays and other branches, each cut to the URL's
//! range and downsampled when too dense to draw.

use perfwatch_core::chart::{ChartLine, ChartPoint, ChartQuery, XMode, MAX_CHART_POINTS};
use perfwatch_core::downsample::minmax_indices;
use perfwatch_core::view::{Point, SeriesInfo};

use super::in_range;
use crate::error::Result;
use crate::store::PointFilter;
use crate::Store;

/// What every line of one chart is read with.
pub(super) struct LineReads<'a> {
    pub(super) store: &'a Store,
    pub(super) query: &'a ChartQuery,
    pub(super) x_mode: XMode,
    pub(super) project_id: i64,
    /// The branch the main line is drawn from (the URL's, else the project's main).
    pub(super) main_branch: &'a str,
    pub(super) branch_id: Option<i64>,
}

impl LineReads<'_> {
    /// The zoom range of the URL on the main branch.
    fn main_range(&self) -> PointFilter {
        range_filter(self.query, self.x_mode).with_branch(self.branch_id)
    }

    /// The series on the main branch. A production series keeps hourly rollups of the
    /// points its retention dropped: zoomed out past the raw points the chart shows
    /// those hours (p50, min–max), zoomed in on recent days the raw points.
    pub(super) async fn main_line(&self, series: &SeriesInfo) -> Result<ChartLine> {
        let range = self.main_range();
        let main = self
            .store
            .chart_line(series.id, &range, self.x_mode, MAX_CHART_POINTS)
            .await?;
        let mut points = main.points;
        let mut total = main.total;
        if self.x_mode == XMode::Time {
            // Rollups exist only for hours whose raw points were dropped (an alert's kept
            // point shares its hour with the rollup of the others).
            let from = range.from_time.unwrap_or(i64::MIN);
            let to = range.to_time.map_or(i64::MAX, |t| t.saturating_add(1));
            let hours = self.store.rollups(series.id, from, to).await?;
            total += hours.len();
            points.splice(0..0, hours.iter().map(rollup_point));
        }
        Ok(self.line(series, self.main_branch, &points, total))
    }

    /// The URL's overlays that are siblings of the series, on the main branch.
    pub(super) async fn overlay_lines(&self, siblings: &[SeriesInfo]) -> Result<Vec<ChartLine>> {
        let mut lines = Vec::new();
        for id in &self.query.overlay {
            if let Some(s) = siblings.iter().find(|s| s.id == *id) {
                let pts = self
                    .store
                    .chart_line(s.id, &self.main_range(), self.x_mode, MAX_CHART_POINTS)
                    .await?;
                lines.push(self.line(s, self.main_branch, &pts.points, pts.total));
            }
        }
        Ok(lines)
    }

    /// The series on the URL's other branches (those that exist), read in full.
    pub(super) async fn branch_lines(&self, series: &SeriesInfo) -> Result<Vec<ChartLine>> {
        let mut lines = Vec::new();
        for b in &self.query.branches {
            if b == self.main_branch {
                continue;
            }
            let Some(bid) = self.store.branch_id(self.project_id, b).await? else {
                continue;
            };
            let pts = self
                .store
                .points_without_commits(series.id, &whole_branch(Some(bid)))
                .await?;
            let pts = self.on_main_axis(series.id, pts).await?;
            lines.push(self.line(series, b, &pts, pts.len()));
        }
        Ok(lines)
    }

    /// A branch numbers its own commits, so on a commit axis each of its points is
    /// placed just after the main line's last commit measured at or before it (this
    /// needs every main point, not the drawn ones).
    async fn on_main_axis(&self, series_id: i64, branch: Vec<Point>) -> Result<Vec<Point>> {
        if self.x_mode != XMode::Commit {
            return Ok(branch);
        }
        let main_all = self
            .store
            .points_without_commits(series_id, &whole_branch(self.branch_id))
            .await?;
        Ok(place_on_main(&branch, &main_all))
    }

    fn line(&self, s: &SeriesInfo, branch: &str, points: &[Point], total: usize) -> ChartLine {
        make_line(
            label(s, branch),
            s.id,
            points,
            total,
            self.x_mode,
            self.query,
        )
    }
}

/// The x mode, when the URL does not say: by commit when the main line has commit
/// order, else by time.
pub(super) async fn x_mode_of(
    store: &Store,
    series_id: i64,
    query: &ChartQuery,
    branch_id: Option<i64>,
) -> Result<XMode> {
    if let Some(x) = query.x {
        return Ok(x);
    }
    Ok(
        if store
            .has_commit_order(series_id, &whole_branch(branch_id))
            .await?
        {
            XMode::Commit
        } else {
            XMode::Time
        },
    )
}

/// Every point of a branch, unzoomed.
fn whole_branch(branch_id: Option<i64>) -> PointFilter {
    PointFilter {
        branch_id,
        ..Default::default()
    }
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
