//! Row → read-model mapping shared by the read queries.

use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesInfo;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::Result;

/// Columns every series query selects, in this order.
pub(crate) const SERIES_COLUMNS: &str =
    "s.id, p.slug, s.benchmark, m.name, m.unit, m.display_unit, m.direction, t.name, s.params";

pub(crate) const SERIES_JOINS: &str = "FROM series s JOIN projects p ON p.id = s.project_id
     JOIN measures m ON m.id = s.measure_id JOIN testbeds t ON t.id = s.testbed_id";

pub(crate) fn series_from_row(row: &AnyRow, offset: usize) -> Result<SeriesInfo> {
    let dir: String = row.try_get(offset + 6)?;
    Ok(SeriesInfo {
        id: row.try_get(offset)?,
        project: row.try_get(offset + 1)?,
        benchmark: row.try_get(offset + 2)?,
        measure: row.try_get(offset + 3)?,
        unit: row.try_get(offset + 4)?,
        display_unit: row.try_get(offset + 5)?,
        direction: Direction::parse(&dir).unwrap_or_default(),
        testbed: row.try_get(offset + 7)?,
        params: row.try_get(offset + 8)?,
    })
}
