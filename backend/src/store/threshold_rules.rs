//! Threshold rules: stored per project, for one series or for every series of a
//! measure.

use perfwatch_core::alerts::ThresholdRuleView;
use sqlx::Row;

use super::Store;
use crate::error::{Result, StoreError};
use crate::time::now_ms;

/// A threshold rule as stored (the rule is JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRule {
    pub id: i64,
    pub series_id: Option<i64>,
    pub measure: Option<String>,
    pub rule: String,
}

impl Store {
    pub async fn create_threshold_rule(
        &self,
        project_id: i64,
        series_id: Option<i64>,
        measure: Option<&str>,
        rule_json: &str,
    ) -> Result<i64> {
        if series_id.is_some() && measure.is_some() {
            return Err(StoreError::invalid(
                "series_id",
                "give series_id or measure, not both",
            ));
        }
        if let Some(sid) = series_id {
            let owner: Option<i64> =
                sqlx::query_scalar("SELECT project_id FROM series WHERE id = $1")
                    .bind(sid)
                    .fetch_optional(&self.pool)
                    .await?;
            if owner != Some(project_id) {
                return Err(StoreError::invalid(
                    "series_id",
                    format!("series {sid} is not in this project"),
                ));
            }
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO threshold_rules (project_id, series_id, measure, rule, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(series_id)
        .bind(measure.map(str::to_string))
        .bind(rule_json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn threshold_rules(&self, project_id: i64) -> Result<Vec<StoredRule>> {
        let rows = sqlx::query("SELECT id, series_id, measure, rule FROM threshold_rules WHERE project_id = $1 ORDER BY id")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredRule {
                    id: r.try_get("id")?,
                    series_id: r.try_get("series_id")?,
                    measure: r.try_get("measure")?,
                    rule: r.try_get("rule")?,
                })
            })
            .collect()
    }

    pub async fn threshold_rule_views(&self, project_id: i64) -> Result<Vec<ThresholdRuleView>> {
        let rows = sqlx::query(
            "SELECT r.id AS id, p.slug AS project, r.series_id AS series_id, r.measure AS measure, r.rule AS rule,
                    r.created_at AS created_at
             FROM threshold_rules r JOIN projects p ON p.id = r.project_id WHERE r.project_id = $1 ORDER BY r.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let rule: String = r.try_get("rule")?;
                Ok(ThresholdRuleView {
                    id: r.try_get("id")?,
                    project: r.try_get("project")?,
                    series_id: r.try_get("series_id")?,
                    measure: r.try_get("measure")?,
                    rule: serde_json::from_str(&rule)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The project a threshold rule belongs to.
    pub async fn threshold_rule_project(&self, id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT project_id FROM threshold_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("threshold rule {id}")))
    }

    /// Deletes rule `id`; alerts it raised stay (their `rule_id` becomes empty). Who may is decided
    /// before, on the rule's project (`threshold_rule_project`), by the rights policy.
    pub async fn delete_threshold_rule(&self, id: i64) -> Result<()> {
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT project_id FROM threshold_rules WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        if owner.is_none() {
            return Err(StoreError::NotFound(format!("threshold rule {id}")));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE alerts SET rule_id = NULL WHERE rule_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM threshold_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
