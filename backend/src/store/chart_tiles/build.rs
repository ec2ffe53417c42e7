//! Building and extending a line's tiles: the grid of a line tiled for the first time,
//! the claim that makes two servers extending at once write the tiles only once, and
//! the merge and write of the tiles (their extremes come from `aggregate.rs`).

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use super::{LineKey, Tile, TiledLine, POINTS_PER_TILE, STEP_POINTS, TILE_COLUMNS, WRITE_CHUNK};
use crate::error::Result;
use crate::store::chart_read::{axis_column, bind_all, where_clause, RunSpan};
use crate::store::{values_rows, Dialect, PointFilter, Store, WriteTx};

impl Store {
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
    ///
    /// In steps of at most `STEP_POINTS` points, each written and claimed on its own:
    /// memory stays bounded by a step, not by the line (tiling 9 million points in one
    /// pass held ~140,000 tile rows at once and took the server from 75 to 219 MB;
    /// docs/benchmarks.md), and each step holds the writer only briefly.
    pub(super) async fn extend_tiles(&self, key: LineKey, known: Option<TiledLine>) -> Result<()> {
        let watermark = self.settled_run_watermark().await?;
        let mut line = match known {
            Some(l) => l,
            None => match self.start_tiled_line(key, watermark).await? {
                Some(l) => l,
                None => return Ok(()),
            },
        };
        while line.covered_run < watermark {
            let through = self.step_end(key, line.covered_run, watermark).await?;
            let mut tiles = self
                .tile_aggregates(key, &line, line.covered_run, through)
                .await?;
            let mut tx = self.begin_write().await?;
            if !claim_extension(&mut tx, key, &line, through).await? {
                tx.rollback().await?;
                return Ok(());
            }
            merge_stored_tiles(&mut tx, key, &mut tiles).await?;
            let tiles: Vec<Tile> = tiles.into_values().collect();
            write_tiles(&mut tx, self.dialect(), key, &tiles).await?;
            tx.commit().await?;
            line.covered_run = through;
        }
        Ok(())
    }

    /// The last run of the next step after `after`: the run of the series'
    /// `STEP_POINTS`-th point past it (a walk along the primary key), capped at the
    /// watermark.
    async fn step_end(&self, key: LineKey, after: i64, watermark: i64) -> Result<i64> {
        let run: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT m.run_id FROM measurements m WHERE m.series_id = $1 AND m.run_id > $2
             ORDER BY m.run_id LIMIT 1 OFFSET {}",
            STEP_POINTS - 1
        )))
        .bind(key.series_id)
        .bind(after)
        .fetch_optional(&self.pool)
        .await?;
        Ok(run.map_or(watermark, |r| r.min(watermark)))
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
}

/// Moves the line's watermark from what this pass read to `watermark`. The line row is
/// the claim: gone (points deleted meanwhile) or moved on (another server extended
/// it), the claim fails and this pass writes nothing.
async fn claim_extension(
    tx: &mut WriteTx,
    key: LineKey,
    line: &TiledLine,
    watermark: i64,
) -> Result<bool> {
    let claimed = sqlx::query(AssertSqlSafe(format!(
        "UPDATE chart_tile_lines SET covered_run = $4 WHERE {} AND covered_run = $5",
        LineKey::WHERE
    )))
    .bind(key.series_id)
    .bind(key.axis())
    .bind(key.branch_id)
    .bind(watermark)
    .bind(line.covered_run)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// Folds the stored tiles with the same numbers into the fresh ones, so a tile that
/// gained points keeps the extremes of those it had.
async fn merge_stored_tiles(
    tx: &mut WriteTx,
    key: LineKey,
    tiles: &mut BTreeMap<i64, Tile>,
) -> Result<()> {
    let (Some(first), Some(last)) = (tiles.keys().next(), tiles.keys().next_back()) else {
        return Ok(());
    };
    let old = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TILE_COLUMNS} FROM chart_tiles WHERE {} AND tile >= $4 AND tile <= $5",
        LineKey::WHERE
    )))
    .bind(key.series_id)
    .bind(key.axis())
    .bind(key.branch_id)
    .bind(*first)
    .bind(*last)
    .fetch_all(&mut **tx)
    .await?;
    for r in &old {
        let o = Tile::from_row(r)?;
        if let Some(t) = tiles.get_mut(&o.tile) {
            t.merge(&o);
        }
    }
    Ok(())
}

/// Upserts the tiles, `WRITE_CHUNK` per statement.
async fn write_tiles(
    tx: &mut WriteTx,
    dialect: Dialect,
    key: LineKey,
    tiles: &[Tile],
) -> Result<()> {
    for chunk in crate::store::shaped_chunks(tiles, WRITE_CHUNK) {
        let sql = format!(
            "INSERT INTO chart_tiles (series_id, axis, branch_id, {TILE_COLUMNS}) VALUES {}
             ON CONFLICT (series_id, axis, branch_id, tile) DO UPDATE SET n = excluded.n,
                 first_x = excluded.first_x, last_x = excluded.last_x,
                 min_run = excluded.min_run, max_run = excluded.max_run,
                 lo_run = excluded.lo_run, lo_x = excluded.lo_x, lo_y = excluded.lo_y,
                 hi_run = excluded.hi_run, hi_x = excluded.hi_x, hi_y = excluded.hi_y",
            values_rows(dialect, chunk.len(), 15)
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
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
