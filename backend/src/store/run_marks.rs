//! What run lists and chart points show of a run besides its numbers: its commit and
//! whether it is invalid (`runs.invalid_reason`, migration 0015), read for a set of
//! runs at once; and a project's recent runs.

use std::collections::HashMap;

use perfwatch_core::validity::reason_text;
use perfwatch_core::view::RunBrief;
use sqlx::{AssertSqlSafe, Row};

use super::chart_read::{id_set_text, in_id_set};
use super::Store;
use crate::error::Result;

/// A run's commit and validity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMark {
    pub sha: Option<String>,
    /// Why the run is invalid, readable; `None` for a valid run.
    pub invalid_reason: Option<String>,
}

/// Most runs a project's run list shows.
pub const RECENT_RUNS: i64 = 50;

impl Store {
    /// Commit and validity of each run (unknown ids are left out), in one statement:
    /// the ids travel as one parameter (`chart_read::in_id_set`), each a primary-key
    /// lookup.
    pub async fn run_marks(&self, run_ids: &[i64]) -> Result<HashMap<i64, RunMark>> {
        let mut out = HashMap::with_capacity(run_ids.len());
        if run_ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT r.id AS id, c.sha AS sha, r.invalid_reason AS invalid_reason
             FROM runs r LEFT JOIN commits c ON c.id = r.commit_id WHERE {}",
            in_id_set(self.dialect(), "r.id", 1)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id_set_text(self.dialect(), run_ids))
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let why: Option<String> = row.try_get("invalid_reason")?;
            out.insert(
                row.try_get("id")?,
                RunMark {
                    sha: row.try_get("sha")?,
                    invalid_reason: why.as_deref().map(reason_text),
                },
            );
        }
        Ok(out)
    }

    /// The newest runs of a project (at most `limit`, capped at [`RECENT_RUNS`]), newest
    /// first, each with its branch, commit, testbed and validity.
    pub async fn recent_runs(&self, project_id: i64, limit: i64) -> Result<Vec<RunBrief>> {
        let rows = sqlx::query(
            "SELECT r.id AS id, b.name AS branch, c.sha AS sha, t.name AS testbed,
                    r.started_at AS started_at, r.invalid_reason AS invalid_reason
             FROM runs r JOIN testbeds t ON t.id = r.testbed_id
             LEFT JOIN branches b ON b.id = r.branch_id
             LEFT JOIN commits c ON c.id = r.commit_id
             WHERE r.project_id = $1 ORDER BY r.started_at DESC, r.id DESC LIMIT $2",
        )
        .bind(project_id)
        .bind(limit.clamp(0, RECENT_RUNS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let why: Option<String> = r.try_get("invalid_reason")?;
                Ok(RunBrief {
                    id: r.try_get("id")?,
                    branch: r.try_get("branch")?,
                    sha: r.try_get("sha")?,
                    testbed: r.try_get("testbed")?,
                    started_at: r.try_get("started_at")?,
                    invalid_reason: why.as_deref().map(reason_text),
                })
            })
            .collect()
    }
}
