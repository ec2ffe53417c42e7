//! Drawing a line from its tiles: per pixel bucket the lowest and highest tile
//! extreme, raw points only where the tiles do not reach (the tiles a zoom range cuts
//! through, runs newer than the tiles).

use perfwatch_core::chart::XMode;
use perfwatch_core::view::Point;
use sqlx::{AssertSqlSafe, Row};

use super::{LineKey, TiledLine, EXTEND_AT, TILE_FROM};
use crate::error::Result;
use crate::store::chart_read::{
    id_set_text, in_id_set, in_line_order, point, LinePoints, RunSpan, COLUMNS,
};
use crate::store::{Dialect, PointFilter, Store};

/// The tile rows of a line that reach into an x range: `$1..$3` the line, `$4..$5` the
/// tile numbers, `$6..$7` the range, bound the same for every statement of one read.
struct Overlap {
    key: LineKey,
    tiles: (i64, i64),
    lo: i64,
    hi: i64,
    sql: String,
}

impl Overlap {
    fn new(key: LineKey, line: TiledLine, lo: i64, hi: i64) -> Self {
        Self {
            key,
            // Halved bounds keep `x - origin` from overflowing for an open range.
            tiles: (
                line.tile_of(lo.max(i64::MIN / 2)),
                line.tile_of(hi.min(i64::MAX / 2)),
            ),
            lo,
            hi,
            sql: format!(
                "{} AND tile >= $4 AND tile <= $5 AND last_x >= $6 AND first_x <= $7",
                LineKey::WHERE
            ),
        }
    }

    /// The overlap's tiles that lie wholly inside the range.
    fn whole(&self) -> String {
        format!("{} AND first_x >= $6 AND last_x <= $7", self.sql)
    }

    fn bind(&self, sql: String) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(self.key.series_id)
            .bind(self.key.axis())
            .bind(self.key.branch_id)
            .bind(self.tiles.0)
            .bind(self.tiles.1)
            .bind(self.lo)
            .bind(self.hi)
    }
}

/// What the tiles in a range hold: their point count, run-id range and x extent.
struct TileSummary {
    n: i64,
    min_run: i64,
    max_run: i64,
    first_x: i64,
    last_x: i64,
}

impl Store {
    /// A chart line drawn from its tiles: the extremes of the tiles wholly inside the
    /// range, per pixel bucket, plus raw points where the tiles do not reach.
    pub(in crate::store) async fn tiled_line(
        &self,
        key: LineKey,
        line: TiledLine,
        f: &PointFilter,
        max_points: usize,
    ) -> Result<LinePoints> {
        let (lo, hi) = match key.x {
            XMode::Commit => (f.from_ord, f.to_ord),
            XMode::Time => (f.from_time, f.to_time),
        };
        let o = Overlap::new(key, line, lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
        let f = f.with_branch(key.branch());
        let newer = RunSpan::Above(line.covered_run);
        let Some(summary) = self.tile_summary(&o).await? else {
            // No tile in range: only newer points can be.
            return self
                .raw_line(key.series_id, &f, key.x, max_points, newer)
                .await;
        };
        if summary.n as usize + EXTEND_AT as usize <= TILE_FROM {
            // Few enough to read raw: the run range the tiles name, and newer runs.
            let spans = [RunSpan::Between(summary.min_run, summary.max_run), newer];
            let none = LinePoints {
                points: Vec::new(),
                total: 0,
            };
            return self.raw_spans(key, &f, max_points, spans, none).await;
        }
        let (from, to) = (o.lo.max(summary.first_x), o.hi.min(summary.last_x));
        let runs = self.bucket_extreme_runs(&o, from, to, max_points).await?;
        let total = self.whole_tile_points(&o).await? as usize;
        let points = self.points_of_runs(key.series_id, &runs).await?;
        // The (at most two) tiles the range cuts through, and newer runs, read raw.
        let mut spans = vec![newer];
        spans.extend(self.cut_tile_runs(&o, line.covered_run).await?);
        let drawn = LinePoints { points, total };
        self.raw_spans(key, &f, max_points, spans, drawn).await
    }

    /// The count, run range and x extent of the tiles overlapping the range, or `None`
    /// when no tile does.
    async fn tile_summary(&self, o: &Overlap) -> Result<Option<TileSummary>> {
        let row = o
            .bind(format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n, MIN(min_run) AS min_run,
                        MAX(max_run) AS max_run, MIN(first_x) AS first_x, MAX(last_x) AS last_x
                 FROM chart_tiles WHERE {}",
                o.sql
            ))
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        let runs: (Option<i64>, Option<i64>) = (row.try_get("min_run")?, row.try_get("max_run")?);
        let (Some(min_run), Some(max_run)) = runs else {
            return Ok(None);
        };
        Ok(Some(TileSummary {
            n,
            min_run,
            max_run,
            first_x: row.try_get("first_x")?,
            last_x: row.try_get("last_x")?,
        }))
    }

    /// The runs holding the lowest and the highest tile extreme of each pixel bucket of
    /// `[from, to]`, over the tiles wholly inside the range, ascending and distinct.
    async fn bucket_extreme_runs(
        &self,
        o: &Overlap,
        from: i64,
        to: i64,
        max_points: usize,
    ) -> Result<Vec<i64>> {
        let buckets = (max_points / 2).max(1) as i64;
        let span = (to - from) as i128 + 1;
        // The bucket arithmetic stays in i64 (x ~1.8e12 ms × ≤ 1,000 buckets).
        let whole = o.whole();
        let bucket = |x: &str| format!("(({x} - {from}) * {buckets}) / {span}");
        let picks = match self.dialect() {
            Dialect::Sqlite => format!(
                "SELECT lo_run AS run, MIN(lo_y) AS y FROM chart_tiles WHERE {whole} GROUP BY {}
                 UNION ALL
                 SELECT hi_run AS run, MAX(hi_y) AS y FROM chart_tiles WHERE {whole} GROUP BY {}",
                bucket("lo_x"),
                bucket("hi_x")
            ),
            Dialect::Postgres => format!(
                "SELECT run FROM (SELECT DISTINCT ON ({b}) lo_run AS run FROM chart_tiles
                     WHERE {whole} ORDER BY {b}, lo_y ASC, lo_run) lo
                 UNION ALL
                 SELECT run FROM (SELECT DISTINCT ON ({c}) hi_run AS run FROM chart_tiles
                     WHERE {whole} ORDER BY {c}, hi_y DESC, hi_run) hi",
                b = bucket("lo_x"),
                c = bucket("hi_x")
            ),
        };
        let mut runs: Vec<i64> = Vec::new();
        // A new text for nearly every range (the bucket arithmetic): not cached.
        for r in o
            .bind(picks)
            .persistent(false)
            .fetch_all(&self.pool)
            .await?
        {
            runs.push(r.try_get("run")?);
        }
        runs.sort_unstable();
        runs.dedup();
        Ok(runs)
    }

    /// The points the tiles wholly inside the range hold.
    async fn whole_tile_points(&self, o: &Overlap) -> Result<i64> {
        Ok(o.bind(format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM chart_tiles WHERE {}",
            o.whole()
        ))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// The run ranges of the tiles the range cuts through, capped at the runs the
    /// tiles cover (newer runs are read on their own).
    async fn cut_tile_runs(&self, o: &Overlap, covered_run: i64) -> Result<Vec<RunSpan>> {
        let cut = o
            .bind(format!(
                "SELECT min_run, max_run FROM chart_tiles WHERE {} AND (first_x < $6 OR last_x > $7)",
                o.sql
            ))
            .fetch_all(&self.pool)
            .await?;
        let mut spans = Vec::with_capacity(cut.len());
        for r in &cut {
            let a: i64 = r.try_get("min_run")?;
            let b: i64 = r.try_get("max_run")?;
            spans.push(RunSpan::Between(a, b.min(covered_run)));
        }
        Ok(spans)
    }

    /// The points drawn so far (`start`) plus the raw points of each run span, in line
    /// order. Each span is its own read, as each is a bounded key range; one
    /// `a <= run <= b OR run > w` would scan from `a` to the end of the series (half a
    /// million rows for a zoom into the middle of a million: 2 s). The chart thins the
    /// parts' extremes to a line's points (`charts::make_line`).
    async fn raw_spans(
        &self,
        key: LineKey,
        f: &PointFilter,
        max_points: usize,
        spans: impl IntoIterator<Item = RunSpan>,
        start: LinePoints,
    ) -> Result<LinePoints> {
        let LinePoints {
            mut points,
            mut total,
        } = start;
        for span in spans {
            let part = self
                .raw_line(key.series_id, f, key.x, max_points, span)
                .await?;
            total += part.total;
            points.extend(part.points);
        }
        in_line_order(&mut points, key.x);
        Ok(LinePoints { points, total })
    }

    /// The points of the given runs in one series, in one statement.
    async fn points_of_runs(&self, series_id: i64, runs: &[i64]) -> Result<Vec<Point>> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM measurements m WHERE m.series_id = $1 AND {}",
            in_id_set(self.dialect(), "m.run_id", 2)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(series_id)
            .bind(id_set_text(self.dialect(), runs))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(point).collect()
    }
}
