//! The tiles of a run range in SQL: per tile its count, x extent, run range and its
//! lowest and highest point, one grouped pass on PostgreSQL, three on SQLite.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use super::{LineKey, Tile, TiledLine};
use crate::error::Result;
use crate::store::chart_read::{axis_column, bind_all, where_clause, RunSpan};
use crate::store::{Dialect, PointFilter, Store};

/// The pieces every aggregate statement of one pass shares.
struct Grouping {
    /// The x column.
    axis: &'static str,
    /// The tile number of a point, as SQL.
    tile: String,
    /// The points' filter, and its binds.
    filter: String,
    binds: Vec<i64>,
}

impl Grouping {
    /// The tile number, count, x extent and run range of each tile.
    fn counts(&self) -> String {
        let (tile, axis) = (&self.tile, self.axis);
        format!(
            "{tile} AS tile, COUNT(*) AS n, MIN({axis}) AS first_x, MAX({axis}) AS last_x,
             MIN(m.run_id) AS min_run, MAX(m.run_id) AS max_run"
        )
    }

    async fn fetch(&self, store: &Store, sql: String) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), &self.binds)
            .fetch_all(&store.pool)
            .await?)
    }
}

impl Store {
    /// Tiles of the points of runs in `(after, through]`, by tile number.
    pub(super) async fn tile_aggregates(
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
        let g = Grouping {
            axis,
            tile: line.tile_sql(axis),
            filter,
            binds,
        };
        match self.dialect() {
            Dialect::Postgres => self.postgres_tile_aggregates(&g).await,
            Dialect::Sqlite => self.sqlite_tile_aggregates(&g).await,
        }
    }

    /// One grouped pass: MIN/MAX of an array compare element by element, so the lowest
    /// (highest) median comes with its run and x, hashed instead of sorted.
    async fn postgres_tile_aggregates(&self, g: &Grouping) -> Result<BTreeMap<i64, Tile>> {
        let axis = g.axis;
        let pick =
            |agg: &str, col: &str| {
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
            "SELECT {}, {} FROM measurements m WHERE {} GROUP BY 1",
            g.counts(),
            picks.join(", "),
            g.filter
        );
        let mut out = BTreeMap::new();
        for r in g.fetch(self, sql).await? {
            let t = Tile::from_row(&r)?;
            out.insert(t.tile, t);
        }
        Ok(out)
    }

    /// Three grouped passes: counts, then the lowest and the highest point. SQLite
    /// takes the bare columns of a lone MIN or MAX from the row that holds it
    /// (documented), one aggregate per query.
    async fn sqlite_tile_aggregates(&self, g: &Grouping) -> Result<BTreeMap<i64, Tile>> {
        let sql = format!(
            "SELECT {} FROM measurements m WHERE {} GROUP BY 1",
            g.counts(),
            g.filter
        );
        let mut out = BTreeMap::new();
        for r in g.fetch(self, sql).await? {
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
                "SELECT {} AS tile, m.run_id AS run, {} AS x, {agg}(m.median) AS y
                 FROM measurements m WHERE {} GROUP BY 1",
                g.tile, g.axis, g.filter
            );
            for r in g.fetch(self, sql).await? {
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
        Ok(out)
    }
}
