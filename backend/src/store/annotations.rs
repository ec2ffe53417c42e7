//! Releases and annotations: labelled markers on the timeline.

use perfwatch_core::model::AnnotationInput;
use perfwatch_core::validate::validate_annotation;
use perfwatch_core::view::Marker;
use sqlx::Row;

use super::{is_unique_violation, Store};
use crate::error::{Result, StoreError};
use crate::time::{now_ms, to_ms};

impl Store {
    /// Adds a release or annotation. A marker that names a commit is placed at the
    /// commit (and at its time unless one is given); the commit is created if the
    /// release was tagged before any run reached it. Who may add it is decided before,
    /// by the rights policy (`Actor::require`).
    pub async fn add_annotation(&self, a: &AnnotationInput) -> Result<i64> {
        validate_annotation(a).map_err(StoreError::Invalid)?;
        let project = self.project(&a.project).await.map_err(|e| match e {
            StoreError::NotFound(_) => {
                StoreError::invalid("project", format!("unknown project '{}'", a.project))
            }
            e => e,
        })?;
        let mut tx = self.begin_write().await?;
        let (commit_id, commit_time) = match &a.commit {
            Some(sha) => {
                let row = sqlx::query(
                    "INSERT INTO commits (project_id, sha) VALUES ($1, $2)
                     ON CONFLICT (project_id, sha) DO UPDATE SET sha = excluded.sha
                     RETURNING id, committed_at",
                )
                .bind(project.id)
                .bind(sha.to_ascii_lowercase())
                .fetch_one(&mut *tx)
                .await?;
                (
                    Some(row.try_get::<i64, _>("id")?),
                    row.try_get::<Option<i64>, _>("committed_at")?,
                )
            }
            None => (None, None),
        };
        let at = a.time.map(to_ms).or(commit_time).unwrap_or_else(now_ms);
        let res = sqlx::query_scalar(
            "INSERT INTO annotations (project_id, name, kind, commit_id, at, description, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(project.id)
        .bind(&a.name)
        .bind(a.kind.as_str())
        .bind(commit_id)
        .bind(at)
        .bind(a.description.clone())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await;
        match res {
            Ok(id) => {
                tx.commit().await?;
                Ok(id)
            }
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                field: "name".into(),
                reason: format!("a {} named '{}' already exists", a.kind.as_str(), a.name),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Markers of a project, placed on `branch_id`'s commit order where their commit is on it.
    pub async fn markers(&self, project_id: i64, branch_id: Option<i64>) -> Result<Vec<Marker>> {
        let rows = sqlx::query(
            "SELECT a.id AS id, a.name AS name, a.kind AS kind, c.sha AS sha, bc.ord AS ord, a.at AS at,
                    a.description AS description
             FROM annotations a
             LEFT JOIN commits c ON c.id = a.commit_id
             LEFT JOIN branch_commits bc ON bc.commit_id = a.commit_id AND bc.branch_id = $2
             WHERE a.project_id = $1 ORDER BY a.at",
        )
        .bind(project_id)
        .bind(branch_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Marker {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    sha: r.try_get("sha")?,
                    ord: r.try_get("ord")?,
                    time: r.try_get("at")?,
                    description: r.try_get("description")?,
                })
            })
            .collect()
    }
}
