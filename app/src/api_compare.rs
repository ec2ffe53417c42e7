//! Server functions of the compare and releases pages: thin, like `api.rs`.

use leptos::prelude::*;

use crate::api_error::AppError;
use perfwatch_core::compare_picker::{BranchChoice, PrChoice, ReleaseChoice};
use perfwatch_core::comparison::{ComparisonView, ReleasesView};
use serde::{Deserialize, Serialize};

/// What the compare page needs: the comparison (or why there is none) and the
/// choices for the side pickers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ComparePageData {
    pub slug: String,
    pub project_name: String,
    pub main_branch: String,
    pub view: Option<ComparisonView>,
    /// A message for the reader when the sides cannot be compared.
    pub error: Option<String>,
    pub branches: Vec<String>,
    pub releases: Vec<String>,
    /// Branches other than main, most recently run first.
    pub recent_branches: Vec<BranchChoice>,
    /// Pull requests (from PR jobs and PR-named branches), newest first.
    pub prs: Vec<PrChoice>,
    /// Releases, newest first, each against the one before it.
    pub recent_releases: Vec<ReleaseChoice>,
    /// The server's clock when the page was read (ms), so ages read the same after
    /// hydration.
    pub now: i64,
}

/// Choices shown per list at most.
pub const PICKER_LIMIT: usize = 12;

#[cfg(feature = "ssr")]
mod picker {
    use perfwatch_backend::store::perf_jobs::Purpose;
    use perfwatch_backend::store::ReleaseRow;
    use perfwatch_backend::{Store, StoreError};
    use perfwatch_core::compare_picker::*;
    use perfwatch_core::view::ProjectRef;

    use super::PICKER_LIMIT;

    type Choices = (Vec<BranchChoice>, Vec<PrChoice>, Vec<ReleaseChoice>);

    /// Recent branches, pull requests and releases of a project.
    pub async fn choices(
        store: &Store,
        p: &ProjectRef,
        releases: &[ReleaseRow],
    ) -> Result<Choices, StoreError> {
        let recent = store.recent_branches(p.id, 200).await?;
        let branches: Vec<BranchChoice> = recent
            .iter()
            .filter(|b| b.name != p.main_branch)
            .take(PICKER_LIMIT)
            .map(|b| BranchChoice {
                name: b.name.clone(),
                last_run_at: b.last_run_at,
                runs: b.runs,
                invalid_runs: b.invalid_runs,
                invalid_reason: b.invalid_reason.clone(),
                query: branch_vs_main(&b.name),
            })
            .collect();
        // PR jobs first (they know the PR's base commit), then PR-named branches.
        let mut prs: Vec<PrChoice> = Vec::new();
        for j in store.perf_jobs(Some(p.id), None, &[], 200).await? {
            let Some(n) = j.pr_number.filter(|_| j.purpose == Purpose::Pr) else {
                continue;
            };
            if prs.iter().any(|c| c.number == n) {
                continue;
            }
            let has_runs = j
                .branch
                .as_deref()
                .is_some_and(|b| recent.iter().any(|r| r.name == b));
            let branch = j.branch.clone().filter(|_| has_runs);
            if let Some(query) = pr_vs_base(
                branch.as_deref(),
                Some(j.sha.as_str()),
                j.base_sha.as_deref(),
            ) {
                prs.push(PrChoice {
                    number: n,
                    branch,
                    state: Some(j.state.as_str().to_string()),
                    at: j.updated_at,
                    query,
                });
            }
        }
        for b in &recent {
            let Some(n) = pr_number_of_branch(&b.name) else {
                continue;
            };
            if prs.iter().any(|c| c.number == n) {
                continue;
            }
            if let Some(query) = pr_vs_base(Some(&b.name), None, None) {
                prs.push(PrChoice {
                    number: n,
                    branch: Some(b.name.clone()),
                    state: None,
                    at: b.last_run_at,
                    query,
                });
            }
        }
        prs.sort_by(|a, b| b.at.cmp(&a.at).then(b.number.cmp(&a.number)));
        prs.truncate(PICKER_LIMIT);
        let releases = releases
            .iter()
            .enumerate()
            .rev()
            .take(PICKER_LIMIT)
            .map(|(i, r)| {
                let previous = i.checked_sub(1).map(|k| releases[k].name.clone());
                ReleaseChoice {
                    name: r.name.clone(),
                    query: previous
                        .as_deref()
                        .map(|pv| release_vs_previous(pv, &r.name)),
                    previous,
                    at: r.at,
                }
            })
            .collect();
        Ok((branches, prs, releases))
    }
}

/// `query` is the page's raw query string (`base=…&head=…&only=…`).
#[server(prefix = "/fn")]
pub async fn fetch_comparison(slug: String, query: String) -> Result<ComparePageData, AppError> {
    use perfwatch_core::comparison::CompareSpec;
    let store = crate::api_ctx::store()?;
    let project = store.project_ref(&slug).await.map_err(AppError::from)?;
    let branches = store.branches(project.id).await.map_err(AppError::from)?;
    let release_rows = store.releases(project.id).await.map_err(AppError::from)?;
    let (recent_branches, prs, recent_releases) = picker::choices(&store, &project, &release_rows)
        .await
        .map_err(AppError::from)?;
    let mut data = ComparePageData {
        slug: slug.clone(),
        project_name: project.name.clone(),
        main_branch: project.main_branch.clone(),
        branches,
        releases: release_rows.into_iter().map(|r| r.name).collect(),
        recent_branches,
        prs,
        recent_releases,
        now: perfwatch_backend::time::now_ms(),
        ..Default::default()
    };
    match CompareSpec::from_query_string(&query) {
        Err((field, reason)) => data.error = Some(format!("{field}: {reason}")),
        Ok(spec) if spec.head.is_none() => {
            data.error = Some("Pick a head (and a base) to compare.".into())
        }
        Ok(spec) => match perfwatch_backend::comparison::compare(&store, &slug, &spec).await {
            Ok(v) => data.view = Some(v),
            Err(e) => data.error = Some(AppError::from(e).to_string()),
        },
    }
    Ok(data)
}

#[server(prefix = "/fn")]
pub async fn fetch_releases(slug: String, series: Option<i64>) -> Result<ReleasesView, AppError> {
    let store = crate::api_ctx::store()?;
    perfwatch_backend::comparison::releases(&store, &slug, series)
        .await
        .map_err(AppError::from)
}
