//! Drawing a line from its tiles: per pixel bucket the lowest and highest tile
//! extreme, raw points only where the tiles do not reach (the tiles a zoom range cuts
//! through, runs newer than the tiles).

use perfwatch_core::chart::XMode;
use perfwatch_core::view::Point;
use sqlx::{AssertSqlSafe, Row};

use super::{LineKey, TiledLine, EXTEND_AT, TILE_FROM};
use crate::error::Result;
use crate::store::chart_read::{in_line_order, point, LinePoints, RunSpan, COLUMNS};
use crate::store::{Dialect, PointFilter, Store};

impl Store {
    /// A chart line drawn from its tiles: the extremes of the tiles wholly inside the
    /// range, per pixel bucket, plus raw points where the tiles do not reach.
    #[expect(
        clippy::too_many_lines,
        reason = "one read of a line from its tiles and raw edges; to be split by job (issue 10 item 8)"
    )]
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
        let (lo, hi) = (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
        let f = f.with_branch(key.branch());
        let (t_lo, t_hi) = (
            line.tile_of(lo.max(i64::MIN / 2)),
            line.tile_of(hi.min(i64::MAX / 2)),
        );
        // $1..$3 the line, $4..$5 the tile numbers, $6..$7 the range.
        let overlap = format!(
            "{} AND tile >= $4 AND tile <= $5 AND last_x >= $6 AND first_x <= $7",
            LineKey::WHERE
        );
        let bind_overlap = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(key.series_id)
                .bind(key.axis())
                .bind(key.branch_id)
                .bind(t_lo)
                .bind(t_hi)
                .bind(lo)
                .bind(hi)
        };
        let summary = bind_overlap(format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n, MIN(min_run) AS min_run,
                    MAX(max_run) AS max_run, MIN(first_x) AS first_x, MAX(last_x) AS last_x
             FROM chart_tiles WHERE {overlap}"
        ))
        .fetch_one(&self.pool)
        .await?;
        let in_tiles: i64 = summary.try_get("n")?;
        let runs: (Option<i64>, Option<i64>) =
            (summary.try_get("min_run")?, summary.try_get("max_run")?);
        let newer = RunSpan::Above(line.covered_run);
        let (Some(min_run), Some(max_run)) = runs else {
            // No tile in range: only newer points can be.
            return self
                .raw_line(key.series_id, &f, key.x, max_points, newer)
                .await;
        };
        if in_tiles as usize + EXTEND_AT as usize <= TILE_FROM {
            // Few enough to read raw: the run range the tiles name, and newer runs. Two
            // reads, as each is a bounded key range; one `a <= run <= b OR run > w`
            // scanned from `a` to the end of the series (half a million rows for a
            // zoom into the middle of a million: 2 s). The chart thins the two parts'
            // extremes to a line's points (`charts::make_line`).
            let mut part = self
                .raw_line(
                    key.series_id,
                    &f,
                    key.x,
                    max_points,
                    RunSpan::Between(min_run, max_run),
                )
                .await?;
            let newer = self
                .raw_line(key.series_id, &f, key.x, max_points, newer)
                .await?;
            part.total += newer.total;
            part.points.extend(newer.points);
            in_line_order(&mut part.points, key.x);
            return Ok(part);
        }
        let first_x: i64 = summary.try_get("first_x")?;
        let last_x: i64 = summary.try_get("last_x")?;
        let (from, to) = (lo.max(first_x), hi.min(last_x));
        let buckets = (max_points / 2).max(1) as i64;
        let span = (to - from) as i128 + 1;
        // Whole tiles; the bucket arithmetic stays in i64 (x ~1.8e12 ms × ≤ 1,000 buckets).
        let whole = format!("{overlap} AND first_x >= $6 AND last_x <= $7");
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
        for r in bind_overlap(picks)
            .persistent(false)
            .fetch_all(&self.pool)
            .await?
        {
            runs.push(r.try_get("run")?);
        }
        runs.sort_unstable();
        runs.dedup();
        let whole_n: i64 = bind_overlap(format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM chart_tiles WHERE {whole}"
        ))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let mut points = self.points_of_runs(key.series_id, &runs).await?;
        let mut total = whole_n as usize;
        // The (at most two) tiles the range cuts through, and newer runs, read raw.
        let cut = bind_overlap(format!(
            "SELECT min_run, max_run FROM chart_tiles WHERE {overlap} AND (first_x < $6 OR last_x > $7)"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut raw = vec![newer];
        for r in &cut {
            let a: i64 = r.try_get("min_run")?;
            let b: i64 = r.try_get("max_run")?;
            raw.push(RunSpan::Between(a, b.min(line.covered_run)));
        }
        for span in raw {
            let part = self
                .raw_line(key.series_id, &f, key.x, max_points, span)
                .await?;
            total += part.total;
            points.extend(part.points);
        }
        in_line_order(&mut points, key.x);
        Ok(LinePoints { points, total })
    }

    /// The points of the given runs in one series.
    async fn points_of_runs(&self, series_id: i64, runs: &[i64]) -> Result<Vec<Point>> {
        let mut out = Vec::with_capacity(runs.len());
        for chunk in runs.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM measurements m WHERE m.series_id = $1 AND m.run_id IN ({})",
                list.join(", ")
            );
            // One text per list length: not cached.
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .persistent(false)
                .bind(series_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(point(&r)?);
            }
        }
        Ok(out)
    }
}
