//! The commits an alert suspects: those on the project's main branch after its last
//! good commit up to its first bad one. One query for any number of alerts of a project
//! (an alert group's page used to ask two per alert).

use perfwatch_core::alerts::{AlertView, RangeAxis, MAX_SUSPECT_COMMITS};
use perfwatch_core::view::CommitInfo;
use sqlx::{AssertSqlSafe, Row};

use super::{shaped_chunks, Store};
use crate::error::Result;

/// Alerts per query: three parameters each, far under either database's limit.
const CHUNK: usize = 300;

impl Store {
    /// Fills `suspect_total` and the first [`MAX_SUSPECT_COMMITS`] `suspect_commits` of
    /// each commit-axis alert; all of `alerts` belong to `project` (slug), whose
    /// repository URL `repo` links the commits.
    pub(super) async fn fill_suspects(
        &self,
        project: &str,
        repo: &Option<String>,
        alerts: &mut [AlertView],
    ) -> Result<()> {
        let all: Vec<usize> = (0..alerts.len()).collect();
        self.suspects(project, repo, alerts, &all, MAX_SUSPECT_COMMITS)
            .await
    }

    /// Fills only `suspect_total` (alert lists), for alerts of any projects: one query
    /// per project.
    pub(super) async fn count_suspects(&self, alerts: &mut [AlertView]) -> Result<()> {
        let mut projects: Vec<String> = alerts.iter().map(|a| a.project.clone()).collect();
        projects.sort();
        projects.dedup();
        for p in projects {
            let of_p: Vec<usize> = (0..alerts.len())
                .filter(|&i| alerts[i].project == p)
                .collect();
            self.suspects(&p, &None, alerts, &of_p, 0).await?;
        }
        Ok(())
    }

    /// Counts the suspects of the commit-axis alerts among `alerts[which]` (all of
    /// project `project`) and keeps the first `keep` of them.
    async fn suspects(
        &self,
        project: &str,
        repo: &Option<String>,
        alerts: &mut [AlertView],
        which: &[usize],
        keep: usize,
    ) -> Result<()> {
        for &i in which {
            alerts[i].suspect_total = 0;
            alerts[i].suspect_commits.clear();
        }
        let on_commits: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| alerts[i].axis == RangeAxis::Commit)
            .collect();
        for chunk in shaped_chunks(&on_commits, CHUNK) {
            // `r` numbers the ranges 0.. in this chunk; the window functions count and
            // rank each range's commits in the same pass.
            let values: Vec<String> = (0..chunk.len())
                .map(|k| {
                    let p = 3 + 3 * k;
                    format!(
                        "(CAST(${p} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
                        p + 1,
                        p + 2
                    )
                })
                .collect();
            let sql = format!(
                "WITH r(i, lo, hi) AS (VALUES {}),
                 m AS (SELECT bc.ord, bc.commit_id FROM branch_commits bc
                       JOIN branches b ON b.id = bc.branch_id
                       JOIN projects p ON p.id = b.project_id AND b.name = p.main_branch
                       WHERE p.slug = $1),
                 s AS (SELECT r.i, m.ord, m.commit_id,
                              ROW_NUMBER() OVER (PARTITION BY r.i ORDER BY m.ord) AS n,
                              COUNT(*) OVER (PARTITION BY r.i) AS total
                       FROM r JOIN m ON m.ord > r.lo AND m.ord <= r.hi)
                 SELECT s.i, s.total, c.sha, c.parent_sha, c.author, c.message, c.committed_at
                 FROM s JOIN commits c ON c.id = s.commit_id
                 WHERE s.n <= $2 ORDER BY s.i, s.ord",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .bind(project)
                // At least the first row of each range, which carries its count.
                .bind(keep.max(1) as i64);
            for (k, &i) in chunk.iter().enumerate() {
                q = q
                    .bind(k as i64)
                    .bind(alerts[i].range.lo)
                    .bind(alerts[i].range.hi);
            }
            for r in q.fetch_all(&self.pool).await? {
                let k: i64 = r.try_get("i")?;
                let Some(&i) = usize::try_from(k).ok().and_then(|k| chunk.get(k)) else {
                    continue;
                };
                let a = &mut alerts[i];
                a.suspect_total = r.try_get("total")?;
                if a.suspect_commits.len() >= keep {
                    continue;
                }
                let sha: String = r.try_get("sha")?;
                a.suspect_commits.push(CommitInfo {
                    url: commit_url(repo, &sha),
                    sha,
                    parent: r.try_get("parent_sha")?,
                    author: r.try_get("author")?,
                    message: r.try_get("message")?,
                    time: r.try_get("committed_at")?,
                });
            }
        }
        Ok(())
    }
}

pub(super) fn commit_url(repo: &Option<String>, sha: &str) -> Option<String> {
    repo.as_ref()
        .map(|u| format!("{}/commit/{sha}", u.trim_end_matches('/')))
}
