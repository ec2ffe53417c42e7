//! SQL of a project's holiday calendar (`holidays`, migration 0016): one row per local
//! date, replaced as a whole.

use perfwatch_detect::holidays::{parse_date, Holiday};
use sqlx::Row;

use super::Store;
use crate::error::{Result, StoreError};

impl Store {
    /// A project's holidays, by date.
    pub async fn holidays(&self, project_id: i64) -> Result<Vec<Holiday>> {
        let rows = sqlx::query("SELECT day, name FROM holidays WHERE project_id = $1 ORDER BY day")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let day: String = r.try_get("day")?;
                Ok(Holiday {
                    date: parse_date(&day).map_err(|e| {
                        StoreError::Data(format!("holidays.day holds a bad value: {e}"))
                    })?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// Replaces a project's holidays with `list` (checked by the caller), in one
    /// transaction.
    pub(crate) async fn replace_holidays(&self, project_id: i64, list: &[Holiday]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM holidays WHERE project_id = $1")
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        for h in list {
            sqlx::query("INSERT INTO holidays (project_id, day, name) VALUES ($1, $2, $3)")
                .bind(project_id)
                .bind(h.date.format("%Y-%m-%d").to_string())
                .bind(&h.name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}
