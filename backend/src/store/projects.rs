//! Projects and branches.

use perfwatch_core::http_url::HttpUrl;
use perfwatch_core::validate::check_slug;
use perfwatch_core::view::{ProjectInfo, ProjectRef};
use perfwatch_core::ValidationErrors;
use sqlx::Row;

use super::{is_unique_violation, Store};
use crate::error::{Result, StoreError};
use crate::time::now_ms;

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub main_branch: Option<String>,
    /// e.g. `https://github.com/org/repo`, used to link commits.
    #[serde(default)]
    pub repo_url: Option<String>,
}

/// Longest accepted `repo_url` (commit links are built from it).
const MAX_REPO_URL: usize = 500;

impl Store {
    pub async fn create_project(&self, p: &NewProject) -> Result<i64> {
        check_slug("slug", &p.slug)
            .map_err(|e| StoreError::Invalid(ValidationErrors { errors: vec![e] }))?;
        // Stored as checked (trimmed), so commit links built from it stay valid.
        let repo_url = p
            .repo_url
            .as_deref()
            .map(|u| HttpUrl::parse_max("repo_url", u, MAX_REPO_URL))
            .transpose()
            .map_err(|e| StoreError::Invalid(e.into()))?
            .map(HttpUrl::into_string);
        let res = sqlx::query_scalar(
            "INSERT INTO projects (slug, name, main_branch, repo_url, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&p.slug)
        .bind(p.name.clone().unwrap_or_else(|| p.slug.clone()))
        .bind(p.main_branch.clone().unwrap_or_else(|| "main".into()))
        .bind(repo_url)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await;
        match res {
            Ok(id) => Ok(id),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                field: "slug".into(),
                reason: format!("project '{}' already exists", p.slug),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_projects(&self) -> Result<Vec<ProjectInfo>> {
        let rows = sqlx::query(
            "SELECT p.id, p.slug, p.name, p.main_branch, p.repo_url,
                    (SELECT COUNT(*) FROM series s WHERE s.project_id = p.id) AS series_count,
                    (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS run_count,
                    (SELECT MAX(r.started_at) FROM runs r WHERE r.project_id = p.id) AS last_run_at
             FROM projects p ORDER BY p.slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(project_from_row).collect()
    }

    pub async fn project(&self, slug: &str) -> Result<ProjectInfo> {
        let row = sqlx::query(
            "SELECT p.id, p.slug, p.name, p.main_branch, p.repo_url,
                    (SELECT COUNT(*) FROM series s WHERE s.project_id = p.id) AS series_count,
                    (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS run_count,
                    (SELECT MAX(r.started_at) FROM runs r WHERE r.project_id = p.id) AS last_run_at
             FROM projects p WHERE p.slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project '{slug}'")))?;
        project_from_row(&row)
    }

    /// A project's own row, without [`Store::project`]'s counts (a COUNT over every
    /// run of the project: 55–87 ms at a million runs, more than the rest of a series
    /// page).
    pub async fn project_ref(&self, slug: &str) -> Result<ProjectRef> {
        let row = sqlx::query(
            "SELECT id, slug, name, main_branch, repo_url FROM projects WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project '{slug}'")))?;
        Ok(ProjectRef {
            id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            main_branch: row.try_get("main_branch")?,
            repo_url: row.try_get("repo_url")?,
        })
    }

    /// Branch names of a project, main branch first.
    pub async fn branches(&self, project_id: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM branches WHERE project_id = $1 ORDER BY name")
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn branch_id(&self, project_id: i64, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM branches WHERE project_id = $1 AND name = $2")
                .bind(project_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

fn project_from_row(r: &sqlx::any::AnyRow) -> Result<ProjectInfo> {
    Ok(ProjectInfo {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        main_branch: r.try_get("main_branch")?,
        repo_url: r.try_get("repo_url")?,
        series_count: r.try_get("series_count")?,
        run_count: r.try_get("run_count")?,
        last_run_at: r.try_get("last_run_at")?,
    })
}

impl Store {
    /// Order of a commit (full sha or a unique prefix) on a branch.
    pub async fn commit_order(
        &self,
        project_id: i64,
        branch_id: Option<i64>,
        sha: &str,
    ) -> Result<Option<i64>> {
        let prefix = format!("{}%", sha.to_ascii_lowercase().replace(['%', '_'], ""));
        Ok(sqlx::query_scalar(
            "SELECT bc.ord FROM commits c JOIN branch_commits bc ON bc.commit_id = c.id
             WHERE c.project_id = $1 AND bc.branch_id = $2 AND c.sha LIKE $3 ORDER BY bc.ord LIMIT 1",
        )
        .bind(project_id)
        .bind(branch_id.unwrap_or(-1))
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await?)
    }
}
