//! Min/max tiles of long chart lines (migration 0014), so a series page with a million
//! points reads ~16,000 tile rows, not a million points.
//!
//! A line (one series, one x axis, one branch or all) is cut along x into tiles of a
//! fixed width, chosen when it is first tiled so a tile then holds about
//! `POINTS_PER_TILE` points. Each tile keeps its point count, x extent, run-id range and
//! its lowest and highest point. A chart then takes, per pixel bucket, the lowest and
//! the highest tile extreme (so every spike is drawn), reads raw only the tiles a zoom
//! range cuts through, and the points of runs newer than the tiles (`covered_run`).
//!
//! Why lazily, on read: ingest writes nothing extra (its rate is measured against a raw
//! SQLite loop, docs/benchmarks.md). The first chart read of a line over `TILE_FROM`
//! points tiles it; later reads extend the tiles once `EXTEND_AT` newer points exist.
//! Deleting points (retention, run deletes) drops the series' tiles (a trigger), so
//! they never name a point that is gone.
//!
//! Which runs are covered: tiles cover every run with an id up to a watermark, so no
//! run at or below it may appear later. SQLite's run ids grow with its one writer's
//! commits (AUTOINCREMENT). PostgreSQL hands out ids before parallel transactions
//! commit, in any order, so the watermark is read under a brief `SHARE` lock on `runs`,
//! which waits for every transaction that has inserted a run to finish.

use std::collections::BTreeMap;

use perfwatch_core::chart::XMode;
use perfwatch_core::view::Point;
use sqlx::{AssertSqlSafe, Row};

use super::chart_read::{
    axis_column, bind_all, in_line_order, point, where_clause, LinePoints, RunSpan, COLUMNS,
};
use super::{values_rows, Dialect, PointFilter, Store};
use crate::error::Result;

/// Lines with more points than this are drawn from tiles.
pub(crate) const TILE_FROM: usize = 20_000;
/// Points a tile holds, on average, when its line is first tiled.
const POINTS_PER_TILE: i64 = 64;
/// Points of newer runs read raw beside the tiles before the tiles are extended.
const EXTEND_AT: i64 = 4_096;
/// Tiles written per statement (15 values each, under both databases' limits).
const WRITE_CHUNK: usize = 500;

/// One chart line's tiles: a series on an axis, for one branch (-1: every branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineKey {
    pub series_id: i64,
    pub x: XMode,
    pub branch_id: i64,
}

impl LineKey {
    pub fn new(series_id: i64, branch_id: Option<i64>, x: XMode) -> Self {
        Self {
            series_id,
            x,
            branch_id: branch_id.unwrap_or(-1),
        }
    }

    fn axis(&self) -> i64 {
        match self.x {
            XMode::Commit => 0,
            XMode::Time => 1,
        }
    }

    fn branch(&self) -> Option<i64> {
        (self.branch_id >= 0).then_some(self.branch_id)
    }

    /// `series_id = $1 AND axis = $2 AND branch_id = $3`.
    const WHERE: &'static str = "series_id = $1 AND axis = $2 AND branch_id = $3";
}

/// A tiled line's grid and how far its tiles reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TiledLine {
    origin: i64,
    width: i64,
    /// Every point of a run with an id up to this is in the tiles.
    covered_run: i64,
}

impl TiledLine {
    /// The tile holding `x` (floor division, so points before the origin work too).
    fn tile_of(&self, x: i64) -> i64 {
        (x - self.origin).div_euclid(self.width)
    }

    /// The same as SQL over `x` (integer division truncates toward zero in both
    /// databases, hence the two branches).
    fn tile_sql(&self, x: &str) -> String {
        let (o, w) = (self.origin, self.width);
        format!(
            "CASE WHEN {x} >= {o} THEN ({x} - {o}) / {w} ELSE -((({o} - {x}) + {w} - 1) / {w}) END"
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Tile {
    tile: i64,
    n: i64,
    first_x: i64,
    last_x: i64,
    min_run: i64,
    max_run: i64,
    lo_run: i64,
    lo_x: i64,
    lo_y: f64,
    hi_run: i64,
    hi_x: i64,
    hi_y: f64,
}

impl Tile {
    fn merge(&mut self, o: &Tile) {
        self.n += o.n;
        self.first_x = self.first_x.min(o.first_x);
        self.last_x = self.last_x.max(o.last_x);
        self.min_run = self.min_run.min(o.min_run);
        self.max_run = self.max_run.max(o.max_run);
        if o.lo_y < self.lo_y {
            (self.lo_run, self.lo_x, self.lo_y) = (o.lo_run, o.lo_x, o.lo_y);
        }
        if o.hi_y > self.hi_y {
            (self.hi_run, self.hi_x, self.hi_y) = (o.hi_run, o.hi_x, o.hi_y);
        }
    }

    fn from_row(r: &sqlx::any::AnyRow) -> Result<Self> {
        Ok(Self {
            tile: r.try_get("tile")?,
            n: r.try_get("n")?,
            first_x: r.try_get("first_x")?,
            last_x: r.try_get("last_x")?,
            min_run: r.try_get("min_run")?,
            max_run: r.try_get("max_run")?,
            lo_run: r.try_get("lo_run")?,
            lo_x: r.try_get("lo_x")?,
            lo_y: r.try_get("lo_y")?,
            hi_run: r.try_get("hi_run")?,
            hi_x: r.try_get("hi_x")?,
            hi_y: r.try_get("hi_y")?,
        })
    }
}

const TILE_COLUMNS: &str =
    "tile, n, first_x, last_x, min_run, max_run, lo_run, lo_x, lo_y, hi_run, hi_x, hi_y";

impl Store {
    /// The tiles of a line, up to date enough to draw from, or `None` for a line too
    /// short to need them.
    pub(super) async fn tiles_for(&self, key: LineKey) -> Result<Option<TiledLine>> {
        if let Some(line) = self.tiled_line_state(key).await? {
            let newer: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM measurements m
                 WHERE m.series_id = $1 AND m.run_id > $2 LIMIT {EXTEND_AT}) t"
            )))
            .bind(key.series_id)
            .bind(line.covered_run)
            .fetch_one(&self.pool)
            .await?;
            if newer < EXTEND_AT {
                return Ok(Some(line));
            }
            self.extend_tiles(key, Some(line)).await?;
            return self.tiled_line_state(key).await;
        }
        // Counting stops past the threshold, so a short series costs a short scan.
        let points: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM measurements m WHERE m.series_id = $1 LIMIT {}) t",
            TILE_FROM + 1
        )))
        .bind(key.series_id)
        .fetch_one(&self.pool)
        .await?;
        if points as usize <= TILE_FROM {
            return Ok(None);
        }
        self.extend_tiles(key, None).await?;
        self.tiled_line_state(key).await
    }

    async fn tiled_line_state(&self, key: LineKey) -> Result<Option<TiledLine>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT origin, width, covered_run FROM chart_tile_lines WHERE {}",
            LineKey::WHERE
        )))
        .bind(key.series_id)
        .bind(key.axis())
        .bind(key.branch_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TiledLine {
                origin: r.try_get("origin")?,
                width: r.try_get("width")?,
                covered_run: r.try_get("covered_run")?,
            })
        })
        .transpose()
    }

    /// The highest run id below which no run can still appear.
    async fn settled_run_watermark(&self) -> Result<i64> {
        const MAX: &str = "SELECT COALESCE(MAX(id), 0) FROM runs";
        match self.dialect() {
            Dialect::Sqlite => Ok(sqlx::query_scalar(MAX).fetch_one(&self.pool).await?),
            Dialect::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("LOCK TABLE runs IN SHARE MODE")
                    .execute(&mut *tx)
                    .await?;
                let w: i64 = sqlx::query_scalar(MAX).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(w)
            }
        }
    }

    /// Tiles the points of runs newer than the line's tiles (all of them for a line
    /// not tiled yet). Two servers extending at once: one wins, the other writes nothing.
    async fn extend_tiles(&self, key: LineKey, known: Option<TiledLine>) -> Result<()> {
        let watermark = self.settled_run_watermark().await?;
        let line = match known {
            Some(l) => l,
            None => match self.start_tiled_line(key, watermark).await? {
                Some(l) => l,
                None => return Ok(()),
            },
        };
        if watermark <= line.covered_run {
            return Ok(());
        }
        let fresh = self
            .tile_aggregates(key, &line, line.covered_run, watermark)
            .await?;
        let mut tx = self.begin_write().await?;
        // The line row is the claim: gone (points deleted meanwhile) or moved on
        // (another server extended it), this pass writes nothing.
        let claimed = sqlx::query(AssertSqlSafe(format!(
            "UPDATE chart_tile_lines SET covered_run = $4 WHERE {} AND covered_run = $5",
            LineKey::WHERE
        )))
        .bind(key.series_id)
        .bind(key.axis())
        .bind(key.branch_id)
        .bind(watermark)
        .bind(line.covered_run)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(());
        }
        let mut tiles = fresh;
        if let (Some(first), Some(last)) = (tiles.keys().next(), tiles.keys().next_back()) {
            let old = sqlx::query(AssertSqlSafe(format!(
                "SELECT {TILE_COLUMNS} FROM chart_tiles WHERE {} AND tile >= $4 AND tile <= $5",
                LineKey::WHERE
            )))
            .bind(key.series_id)
            .bind(key.axis())
            .bind(key.branch_id)
            .bind(*first)
            .bind(*last)
            .fetch_all(&mut *tx)
            .await?;
            for r in &old {
                let o = Tile::from_row(r)?;
                if let Some(t) = tiles.get_mut(&o.tile) {
                    t.merge(&o);
                }
            }
        }
        let tiles: Vec<Tile> = tiles.into_values().collect();
        for chunk in tiles.chunks(WRITE_CHUNK) {
            let sql = format!(
                "INSERT INTO chart_tiles (series_id, axis, branch_id, {TILE_COLUMNS}) VALUES {}
                 ON CONFLICT (series_id, axis, branch_id, tile) DO UPDATE SET n = excluded.n,
                     first_x = excluded.first_x, last_x = excluded.last_x,
                     min_run = excluded.min_run, max_run = excluded.max_run,
                     lo_run = excluded.lo_run, lo_x = excluded.lo_x, lo_y = excluded.lo_y,
                     hi_run = excluded.hi_run, hi_x = excluded.hi_x, hi_y = excluded.hi_y",
                values_rows(self.dialect(), chunk.len(), 15)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for t in chunk {
                q = q
                    .bind(key.series_id)
                    .bind(key.axis())
                    .bind(key.branch_id)
                    .bind(t.tile)
                    .bind(t.n)
                    .bind(t.first_x)
                    .bind(t.last_x)
                    .bind(t.min_run)
                    .bind(t.max_run)
                    .bind(t.lo_run)
                    .bind(t.lo_x)
                    .bind(t.lo_y)
                    .bind(t.hi_run)
                    .bind(t.hi_x)
                    .bind(t.hi_y);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Records a line's grid (its x extent over `POINTS_PER_TILE`-point tiles), tiles
    /// covering nothing yet. `None` when the line has no points.
    async fn start_tiled_line(&self, key: LineKey, watermark: i64) -> Result<Option<TiledLine>> {
        let axis = axis_column(key.x);
        let f = PointFilter {
            branch_id: key.branch(),
            ..Default::default()
        };
        let (filter, binds) = where_clause(
            key.series_id,
            &f,
            axis,
            RunSpan::Between(i64::MIN, watermark),
        );
        let row = bind_all(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n, MIN({axis}) AS lo, MAX({axis}) AS hi FROM measurements m WHERE {filter}"
            ))),
            &binds,
        )
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        let (Some(lo), Some(hi)) = (
            row.try_get::<Option<i64>, _>("lo")?,
            row.try_get::<Option<i64>, _>("hi")?,
        ) else {
            return Ok(None);
        };
        let span = (hi - lo) as i128 + 1;
        let width =
            (span * POINTS_PER_TILE as i128 / n.max(1) as i128).clamp(1, i64::MAX as i128) as i64;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO chart_tile_lines (series_id, axis, branch_id, origin, width, covered_run)
             VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (series_id, axis, branch_id) DO NOTHING",
        )
        .bind(key.series_id)
        .bind(key.axis())
        .bind(key.branch_id)
        .bind(lo)
        .bind(width)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.tiled_line_state(key).await
    }

    /// Tiles of the points of runs in `(after, through]`, by tile number.
    async fn tile_aggregates(
        &self,
        key: LineKey,
        line: &TiledLine,
        after: i64,
        through: i64,
    ) -> Result<BTreeMap<i64, Tile>> {
        let axis = axis_column(key.x);
        let f = PointFilter {
            branch_id: key.branch(),
            ..Default::default()
        };
        // `after + 1`: run ids are integers, and Between is inclusive.
        let (filter, binds) = where_clause(
            key.series_id,
            &f,
            axis,
            RunSpan::Between(after.saturating_add(1), through),
        );
        let tile = line.tile_sql(axis);
        let counts = format!(
            "{tile} AS tile, COUNT(*) AS n, MIN({axis}) AS first_x, MAX({axis}) AS last_x,
             MIN(m.run_id) AS min_run, MAX(m.run_id) AS max_run"
        );
        let mut out = BTreeMap::new();
        match self.dialect() {
            Dialect::Postgres => {
                // MIN/MAX of an array compare element by element: the lowest (highest)
                // median with its run and x, in one hashed pass instead of a sort.
                let pick = |agg: &str, col: &str| {
                    format!(
                        "({agg}(ARRAY[m.median, m.run_id::float8, {axis}::float8]))[{i}]{cast} AS {col}",
                        i = if col.ends_with("_y") { 1 } else if col.ends_with("_run") { 2 } else { 3 },
                        cast = if col.ends_with("_y") { "" } else { "::bigint" },
                    )
                };
                let picks: Vec<String> = [
                    ("MIN", "lo_run"),
                    ("MIN", "lo_x"),
                    ("MIN", "lo_y"),
                    ("MAX", "hi_run"),
                    ("MAX", "hi_x"),
                    ("MAX", "hi_y"),
                ]
                .iter()
                .map(|(a, c)| pick(a, c))
                .collect();
                let sql = format!(
                    "SELECT {counts}, {} FROM measurements m WHERE {filter} GROUP BY 1",
                    picks.join(", ")
                );
                for r in bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let t = Tile::from_row(&r)?;
                    out.insert(t.tile, t);
                }
            }
            Dialect::Sqlite => {
                // SQLite takes the bare columns of a lone MIN or MAX from the row that
                // holds it (documented), one aggregate per query.
                let sql = format!("SELECT {counts} FROM measurements m WHERE {filter} GROUP BY 1");
                for r in bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let t = Tile {
                        tile: r.try_get("tile")?,
                        n: r.try_get("n")?,
                        first_x: r.try_get("first_x")?,
                        last_x: r.try_get("last_x")?,
                        min_run: r.try_get("min_run")?,
                        max_run: r.try_get("max_run")?,
                        lo_run: 0,
                        lo_x: 0,
                        lo_y: f64::INFINITY,
                        hi_run: 0,
                        hi_x: 0,
                        hi_y: f64::NEG_INFINITY,
                    };
                    out.insert(t.tile, t);
                }
                for agg in ["MIN", "MAX"] {
                    let sql = format!(
                        "SELECT {tile} AS tile, m.run_id AS run, {axis} AS x, {agg}(m.median) AS y
                         FROM measurements m WHERE {filter} GROUP BY 1"
                    );
                    for r in bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
                        .fetch_all(&self.pool)
                        .await?
                    {
                        let tile: i64 = r.try_get("tile")?;
                        let pick = (r.try_get("run")?, r.try_get("x")?, r.try_get("y")?);
                        if let Some(t) = out.get_mut(&tile) {
                            if agg == "MIN" {
                                (t.lo_run, t.lo_x, t.lo_y) = pick;
                            } else {
                                (t.hi_run, t.hi_x, t.hi_y) = pick;
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// A chart line drawn from its tiles: the extremes of the tiles wholly inside the
    /// range, per pixel bucket, plus raw points where the tiles do not reach.
    pub(super) async fn tiled_line(
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
            // Few enough to read raw, through the run range the tiles name.
            let span = RunSpan::BetweenOrAbove(min_run, max_run, line.covered_run);
            return self
                .raw_line(key.series_id, &f, key.x, max_points, span)
                .await;
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
        for r in bind_overlap(picks).fetch_all(&self.pool).await? {
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
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(series_id);
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
