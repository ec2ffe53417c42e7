//! Release and deploy markers from GitHub (`release` published, `deployment_status`
//! success), on the same inbox as the job system's events: each becomes an annotation
//! of the project, so charts, release verdicts and deploy comparisons see it.

use chrono::{DateTime, Utc};
use perfwatch_core::model::{AnnotationInput, AnnotationKind};
use perfwatch_github::{DeploymentStatus, Release};

use crate::error::{Result, StoreError};
use crate::store::github::IntegrationRow;
use crate::Store;

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

async fn add(store: &Store, a: AnnotationInput) -> Result<String> {
    let what = format!("{} {}", a.kind.as_str(), a.name);
    match store.add_annotation(&a).await {
        Ok(id) => Ok(format!("marked {what} (annotation {id})")),
        // The same marker again (a redelivered or edited release): nothing new.
        Err(StoreError::Conflict { .. }) => Ok(format!("{what} exists")),
        Err(e) => Err(e),
    }
}

/// A published release marks its tag at the time it was published.
pub async fn release(store: &Store, integ: &IntegrationRow, r: &Release) -> Result<String> {
    if !matches!(r.action.as_str(), "published" | "released") || r.prerelease {
        return Ok(format!("ignored: release {}", r.action));
    }
    let project = store.project_slug_of(integ.project_id).await?;
    add(
        store,
        AnnotationInput {
            project,
            name: r.tag.clone(),
            kind: AnnotationKind::Release,
            commit: None,
            time: Some(time(r.published_at.as_deref()).unwrap_or_else(Utc::now)),
            description: r.name.clone().filter(|n| n != &r.tag),
        },
    )
    .await
}

/// A successful deployment marks the deployed commit in its environment.
pub async fn deployment(
    store: &Store,
    integ: &IntegrationRow,
    d: &DeploymentStatus,
) -> Result<String> {
    if d.state != "success" {
        return Ok(format!("ignored: deployment {}", d.state));
    }
    let project = store.project_slug_of(integ.project_id).await?;
    let short = &d.sha[..d.sha.len().min(10)];
    add(
        store,
        AnnotationInput {
            project,
            name: format!("{} {short}", d.environment),
            kind: AnnotationKind::Deploy,
            commit: Some(d.sha.clone()),
            time: Some(time(d.at.as_deref()).unwrap_or_else(Utc::now)),
            description: d.git_ref.clone().map(|r| format!("deployed {r}")),
        },
    )
    .await
}
