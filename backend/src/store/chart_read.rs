//! Reading a series line for a chart: every point when they fit, otherwise the lowest
//! and highest point of each x bucket, chosen by the database.
//!
//! Why in SQL: scanning 100,000 points of one series takes SQLite ~6 ms, but handing
//! them one by one through sqlx's `Any` driver cost ~250 ms (a channel message, a row
//! conversion and several allocations per row: docs/benchmarks.md). Choosing the
//! extremes in the query returns at most `max_points` rows. The choice keeps spikes
//! the same way `perfwatch_core::downsample::minmax_indices` does, bucketing by x
//! range instead of by index: SQLite picks the row of each bucket's `MIN`/`MAX`
//! (its documented bare-column rule), PostgreSQL uses `DISTINCT ON`.
//!
//! Lines of more than `chart_tiles::TILE_FROM` points are read from their min/max tiles
//! instead (chart_tiles.rs); the raw read here then covers only the few points the tiles
//! do not: newer runs and the tiles a zoom range cuts through.

use perfwatch_core::chart::XMode;
use perfwatch_core::view::Point;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::chart_tiles::LineKey;
use super::{Dialect, PointFilter, Store};
use crate::error::Result;

/// A chart line as read: the points to draw and how many the range holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePoints {
    pub points: Vec<Point>,
    pub total: usize,
}

/// How many of the newest points [`Store::has_commit_order`] looks at.
const RECENT: usize = 1_000;

/// The point columns [`point`] decodes, by these names (the extremes queries keep them).
pub(super) const COLUMNS: &str =
    "m.run_id, m.ord, m.started_at, m.n, m.median, m.mean, m.min, m.max";

impl Store {
    /// Points of one series on the `x` axis (points without a commit order are left
    /// out on a commit axis), at most `max_points` of them, in x order. With
    /// `max_points` 0 only the total is read.
    pub async fn chart_line(
        &self,
        series_id: i64,
        f: &PointFilter,
        x: XMode,
        max_points: usize,
    ) -> Result<LinePoints> {
        if max_points > 0 {
            let key = LineKey::new(series_id, f.branch_id, x);
            if let Some(line) = self.tiles_for(key).await? {
                return self.tiled_line(key, line, f, max_points).await;
            }
        }
        self.raw_line(series_id, f, x, max_points, RunSpan::All)
            .await
    }

    /// Whether the line has a point with a commit order. It looks at the newest points
    /// only (by run id, the key order): a long time-only series would otherwise be
    /// scanned to the end to find none.
    pub async fn has_commit_order(&self, series_id: i64, f: &PointFilter) -> Result<bool> {
        let (filter, binds) = where_clause(series_id, f, "m.run_id", RunSpan::All);
        let sql = format!(
            "SELECT COUNT(ord) AS n FROM (SELECT m.ord FROM measurements m WHERE {filter}
             ORDER BY m.run_id DESC LIMIT {RECENT}) t"
        );
        let n: i64 = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }

    /// Whether a series is measured over time (a production series): its newest points
    /// include one without a commit, or it has none left (retention may have rolled
    /// every raw point up). Like [`Store::has_commit_order`], it looks at the newest
    /// points only: a million-point CI series has no point without a commit, and
    /// finding that out by scanning would cost more than the page.
    pub async fn measured_over_time(&self, series_id: i64) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) AS n, COUNT(t.ord) AS with_commit FROM (SELECT m.ord
             FROM measurements m WHERE m.series_id = $1 ORDER BY m.run_id DESC LIMIT {RECENT}) t"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(series_id)
            .fetch_one(&self.pool)
            .await?;
        let (n, with_commit): (i64, i64) = (row.try_get("n")?, row.try_get("with_commit")?);
        Ok(n == 0 || with_commit < n)
    }

    /// (time, median) of the points without a commit in `[from, to]` (ms), in time
    /// order: what a seasonal band is computed on. Two columns of one table, no join
    /// (`Store::points` also reads shas, branches and validity).
    pub async fn time_only_points(
        &self,
        series_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, f64)>> {
        let rows = sqlx::query(
            "SELECT m.started_at, m.median FROM measurements m
             WHERE m.series_id = $1 AND m.ord IS NULL AND m.started_at >= $2 AND m.started_at <= $3
             ORDER BY m.started_at, m.run_id",
        )
        .bind(series_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("started_at")?, r.try_get("median")?)))
            .collect()
    }

    /// [`Store::chart_line`] from the points themselves, only those of the runs in `runs`.
    pub(super) async fn raw_line(
        &self,
        series_id: i64,
        f: &PointFilter,
        x: XMode,
        max_points: usize,
        runs: RunSpan,
    ) -> Result<LinePoints> {
        let axis = axis_column(x);
        let (filter, binds) = where_clause(series_id, f, axis, runs);
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n, MIN({axis}) AS lo, MAX({axis}) AS hi FROM measurements m WHERE {filter}"
        )));
        let row = bind_all(row, &binds).fetch_one(&self.pool).await?;
        let total = row.try_get::<i64, _>("n")? as usize;
        let (lo, hi): (Option<i64>, Option<i64>) = (row.try_get("lo")?, row.try_get("hi")?);
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(LinePoints {
                points: vec![],
                total: 0,
            });
        };
        if max_points == 0 {
            // Only the count was asked for.
            return Ok(LinePoints {
                points: vec![],
                total,
            });
        }
        let sql = if total <= max_points {
            format!("SELECT {COLUMNS} FROM measurements m WHERE {filter}")
        } else {
            // Two points (lowest, highest) per bucket.
            let buckets = (max_points / 2).max(1) as i64;
            let span = hi - lo + 1;
            // i64 is wide enough: times are ~1.8e12 ms, buckets at most a few thousand.
            let bucket = format!("(({axis} - {lo}) * {buckets}) / {span}");
            self.extremes_sql(&filter, &bucket)
        };
        // The bucket arithmetic is spliced into the text, so nearly every range is a new
        // statement: not kept in the connection's statement cache (100 prepared
        // statements a connection, each holding SQLite or server memory).
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .persistent(false)
            .fetch_all(&self.pool)
            .await?;
        let mut points = rows.iter().map(point).collect::<Result<Vec<_>>>()?;
        in_line_order(&mut points, x);
        Ok(LinePoints { points, total })
    }

    fn extremes_sql(&self, filter: &str, bucket: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => {
                let pick = |agg: &str| {
                    format!(
                        "SELECT m.run_id, m.ord, m.started_at, m.n, {agg}(m.median) AS median, m.mean, m.min, m.max
                         FROM measurements m WHERE {filter} GROUP BY {bucket}"
                    )
                };
                format!("{} UNION ALL {}", pick("MIN"), pick("MAX"))
            }
            Dialect::Postgres => {
                let pick = |order: &str| {
                    format!(
                        "SELECT run_id, ord, started_at, n, median, mean, min, max FROM (
                             SELECT DISTINCT ON ({bucket}) {COLUMNS} FROM measurements m
                             WHERE {filter} ORDER BY {bucket}, m.median {order}, m.run_id) t"
                    )
                };
                format!("{} UNION ALL {}", pick("ASC"), pick("DESC"))
            }
        }
    }
}

/// Which runs' points a raw read covers. The primary key is (series, run), so a run
/// range is a range scan: tiles remember the run range of their points, and newer runs
/// than the tiles cover sit at the end of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RunSpan {
    All,
    /// Run ids in `[a, b]`.
    Between(i64, i64),
    /// Run ids above `w`.
    Above(i64),
}

pub(super) fn axis_column(x: XMode) -> &'static str {
    match x {
        XMode::Commit => "m.ord",
        XMode::Time => "m.started_at",
    }
}

/// The WHERE text (fixed text and numbered parameters only) and the values it binds.
pub(super) fn where_clause(
    series_id: i64,
    f: &PointFilter,
    axis: &str,
    runs: RunSpan,
) -> (String, Vec<i64>) {
    let mut sql = format!("m.series_id = $1 AND {axis} IS NOT NULL");
    let mut binds = vec![series_id];
    match runs {
        RunSpan::All => {}
        RunSpan::Between(a, b) => {
            sql.push_str(" AND m.run_id >= $2 AND m.run_id <= $3");
            binds.extend([a, b]);
        }
        RunSpan::Above(w) => {
            sql.push_str(" AND m.run_id > $2");
            binds.push(w);
        }
    }
    for (text, v) in [
        ("m.branch_id =", f.branch_id),
        ("m.ord >=", f.from_ord),
        ("m.ord <=", f.to_ord),
        ("m.started_at >=", f.from_time),
        ("m.started_at <=", f.to_time),
    ] {
        if let Some(v) = v {
            binds.push(v);
            sql.push_str(&format!(" AND {text} ${}", binds.len()));
        }
    }
    (sql, binds)
}

/// Sorts a line's points into x order, each point once.
pub(super) fn in_line_order(points: &mut Vec<Point>, x: XMode) {
    points.sort_by_key(|p| (p.ord, p.time, p.run_id));
    // A bucket whose lowest point is also its highest gives that point twice.
    points.dedup_by_key(|p| p.run_id);
    if x == XMode::Time {
        points.sort_by_key(|p| (p.time, p.run_id));
    }
}

/// The condition "`column` is one of a set of ids", the set bound as one text
/// parameter `$n` ([`id_set_text`]): one statement of one fixed text (prepared once
/// and kept) for any number of ids. An `IN` list of placeholders needs a statement per
/// chunk: the 860 drawn points of a chart line took 7 of them for their points and 7
/// for their shas, each a round trip and a new text, and SQLite binds numbered
/// placeholders in quadratic time.
pub(super) fn in_id_set(dialect: Dialect, column: &str, n: usize) -> String {
    match dialect {
        Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
        Dialect::Postgres => {
            format!("{column} = ANY(CAST(string_to_array(${n}, ',') AS BIGINT[]))")
        }
    }
}

/// The ids as the text [`in_id_set`] reads: a JSON array for SQLite, comma-separated
/// for PostgreSQL.
pub(super) fn id_set_text(dialect: Dialect, ids: &[i64]) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    match dialect {
        Dialect::Sqlite => format!("[{list}]"),
        Dialect::Postgres => list,
    }
}

pub(super) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = q.bind(*b);
    }
    q
}

pub(super) fn point(r: &AnyRow) -> Result<Point> {
    Ok(Point {
        run_id: r.try_get("run_id")?,
        ord: r.try_get("ord")?,
        time: r.try_get("started_at")?,
        sha: None,
        branch: None,
        n: r.try_get("n")?,
        median: r.try_get("median")?,
        mean: r.try_get("mean")?,
        min: r.try_get("min")?,
        max: r.try_get("max")?,
        // Filled for the drawn points only (`Store::run_marks`): the measurements
        // table does not hold it.
        invalid_reason: None,
    })
}
