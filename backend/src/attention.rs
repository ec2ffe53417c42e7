//! What needs attention, per project (home page): read the untriaged groups, the two
//! newest releases and the running and recently failed jobs, then summarise with the
//! pure functions of `perfwatch_core::attention`.

use perfwatch_core::attention::{
    release_word, summarize_untriaged, Attention, JobBrief, ProjectAttention, ReleaseVerdict,
    FAILED_WINDOW_DAYS,
};
use perfwatch_core::comparison::{CompareSpec, SideSpec};
use perfwatch_core::view::ProjectInfo;

use crate::error::Result;
use crate::store::perf_jobs::{PerfJobRow, PerfState, Purpose};
use crate::time::now_ms;
use crate::Store;

/// Jobs listed per project and state at most (the panel links to the queue for more).
const JOBS_SHOWN: i64 = 10;

/// Every project's row, in the order of [`Store::list_projects`].
pub async fn attention(store: &Store) -> Result<Attention> {
    let mut projects = Vec::new();
    for p in store.list_projects().await? {
        projects.push(project_attention(store, &p).await?);
    }
    Ok(Attention {
        now: now_ms(),
        projects,
    })
}

pub async fn project_attention(store: &Store, p: &ProjectInfo) -> Result<ProjectAttention> {
    let untriaged = summarize_untriaged(&store.untriaged_group_alerts(p.id).await?);
    let release = latest_release(store, p).await?;
    let running = store
        .perf_jobs(Some(p.id), None, &[PerfState::Running], JOBS_SHOWN)
        .await?
        .iter()
        .map(|j| brief(j, j.started_at.unwrap_or(j.updated_at)))
        .collect();
    let since = now_ms() - FAILED_WINDOW_DAYS * 86_400_000;
    let failed = store
        .perf_jobs(
            Some(p.id),
            None,
            &[PerfState::Failed, PerfState::Dead],
            JOBS_SHOWN,
        )
        .await?
        .iter()
        .filter(|j| j.updated_at >= since)
        .map(|j| brief(j, j.finished_at.unwrap_or(j.updated_at)))
        .collect();
    Ok(ProjectAttention {
        slug: p.slug.clone(),
        name: p.name.clone(),
        untriaged,
        release,
        running,
        failed,
    })
}

fn brief(j: &PerfJobRow, at: i64) -> JobBrief {
    let sha: String = j.sha.chars().take(10).collect();
    let label = match (j.purpose, j.pr_number) {
        (Purpose::Pr, Some(n)) => format!("PR #{n} {sha}"),
        (purpose, _) => format!("{} {sha}", purpose.as_str()),
    };
    JobBrief {
        id: j.id,
        state: j.state.as_str().to_string(),
        label,
        at,
    }
}

/// The newest release against the one before it; a comparison that cannot be made
/// (no results at a release commit) says so instead of failing the page.
async fn latest_release(store: &Store, p: &ProjectInfo) -> Result<Option<ReleaseVerdict>> {
    let releases = store.releases(p.id).await?;
    let Some(last) = releases.last() else {
        return Ok(None);
    };
    let Some(prev) = releases.len().checked_sub(2).map(|i| &releases[i]) else {
        return Ok(Some(ReleaseVerdict {
            name: last.name.clone(),
            previous: None,
            verdict: "first release".into(),
            regressions: 0,
            improvements: 0,
            link: format!("/projects/{}/releases", p.slug),
        }));
    };
    let spec = CompareSpec {
        base: Some(SideSpec::Release(prev.name.clone())),
        head: Some(SideSpec::Release(last.name.clone())),
        ..Default::default()
    };
    let link = spec.page_path(&p.slug);
    let (verdict, regressions, improvements) =
        match crate::comparison::compare(store, &p.slug, &spec).await {
            Ok(v) => (
                release_word(v.summary.regressions, v.summary.improvements).to_string(),
                v.summary.regressions,
                v.summary.improvements,
            ),
            Err(crate::StoreError::NotFound(_)) | Err(crate::StoreError::Invalid(_)) => {
                ("not compared".to_string(), 0, 0)
            }
            Err(e) => return Err(e),
        };
    Ok(Some(ReleaseVerdict {
        name: last.name.clone(),
        previous: Some(prev.name.clone()),
        verdict,
        regressions,
        improvements,
        link,
    }))
}
