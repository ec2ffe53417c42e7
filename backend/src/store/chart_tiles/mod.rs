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

mod aggregate;
mod build;
mod read;

use perfwatch_core::chart::XMode;
use sqlx::{AssertSqlSafe, Row};

use super::Store;
use crate::error::Result;

/// Lines with more points than this are drawn from tiles.
pub(crate) const TILE_FROM: usize = 20_000;
/// Points a tile holds, on average, when its line is first tiled.
const POINTS_PER_TILE: i64 = 64;
/// Points of newer runs read raw beside the tiles before the tiles are extended.
const EXTEND_AT: i64 = 4_096;
/// Points tiled per step of a build or extension (`extend_tiles`). Not a multiple of
/// a tile's 64 points, so steps end inside tiles and the merge of a tile's parts is
/// exercised by every test line longer than a step.
const STEP_POINTS: i64 = 50_000;
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

    pub(super) async fn tiled_line_state(&self, key: LineKey) -> Result<Option<TiledLine>> {
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
}
