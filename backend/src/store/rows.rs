//! Row → read-model mapping shared by the read queries.

use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesInfo;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::Result;

/// Columns every series query selects. Each carries a fixed `series_*` alias so
/// [`series_from_row`] reads them by name wherever the block sits in a SELECT and
/// whatever other tables the query joins (lower-case: PostgreSQL folds unquoted aliases).
pub(crate) const SERIES_COLUMNS: &str = "s.id AS series_id, p.slug AS series_project,
    s.benchmark AS series_benchmark, m.name AS series_measure, m.unit AS series_unit,
    m.display_unit AS series_display_unit, m.direction AS series_direction,
    t.name AS series_testbed, s.params AS series_params";

pub(crate) const SERIES_JOINS: &str = "FROM series s JOIN projects p ON p.id = s.project_id
     JOIN measures m ON m.id = s.measure_id JOIN testbeds t ON t.id = s.testbed_id";

/// Decodes the [`SERIES_COLUMNS`] block of a row by its aliases.
pub(crate) fn series_from_row(row: &AnyRow) -> Result<SeriesInfo> {
    let dir: String = row.try_get("series_direction")?;
    Ok(SeriesInfo {
        id: row.try_get("series_id")?,
        project: row.try_get("series_project")?,
        benchmark: row.try_get("series_benchmark")?,
        measure: row.try_get("series_measure")?,
        unit: row.try_get("series_unit")?,
        display_unit: row.try_get("series_display_unit")?,
        direction: Direction::parse(&dir).unwrap_or_default(),
        testbed: row.try_get("series_testbed")?,
        params: row.try_get("series_params")?,
    })
}
