//! Server functions of the compare and releases pages: thin, like `api.rs`.

use leptos::prelude::*;
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
}

#[cfg(feature = "ssr")]
mod ctx {
    use leptos::prelude::*;
    use perfwatch_backend::{Store, StoreError};

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("storage is not configured"))
    }

    /// A message safe to show: not-found and input errors say what; the rest is logged.
    pub fn message(e: StoreError) -> String {
        match e {
            StoreError::NotFound(what) => format!("{what} not found"),
            StoreError::Invalid(v) => v
                .errors
                .iter()
                .map(|f| format!("{}: {}", f.path, f.reason))
                .collect::<Vec<_>>()
                .join("; "),
            other => {
                tracing::error!(error = %other, "server function failed");
                "internal error".into()
            }
        }
    }
}

/// `query` is the page's raw query string (`base=…&head=…&only=…`).
#[server(prefix = "/fn")]
pub async fn fetch_comparison(
    slug: String,
    query: String,
) -> Result<ComparePageData, ServerFnError> {
    use perfwatch_core::comparison::CompareSpec;
    let store = ctx::store()?;
    let project = store
        .project(&slug)
        .await
        .map_err(|e| ServerFnError::new(ctx::message(e)))?;
    let branches = store
        .branches(project.id)
        .await
        .map_err(|e| ServerFnError::new(ctx::message(e)))?;
    let releases = store
        .releases(project.id)
        .await
        .map_err(|e| ServerFnError::new(ctx::message(e)))?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut data = ComparePageData {
        slug: slug.clone(),
        project_name: project.name.clone(),
        main_branch: project.main_branch.clone(),
        branches,
        releases,
        ..Default::default()
    };
    match CompareSpec::from_query_string(&query) {
        Err((field, reason)) => data.error = Some(format!("{field}: {reason}")),
        Ok(spec) if spec.head.is_none() => {
            data.error = Some("Pick a head (and a base) to compare.".into())
        }
        Ok(spec) => match perfwatch_backend::comparison::compare(&store, &slug, &spec).await {
            Ok(v) => data.view = Some(v),
            Err(e) => data.error = Some(ctx::message(e)),
        },
    }
    Ok(data)
}

#[server(prefix = "/fn")]
pub async fn fetch_releases(
    slug: String,
    series: Option<i64>,
) -> Result<ReleasesView, ServerFnError> {
    let store = ctx::store()?;
    perfwatch_backend::comparison::releases(&store, &slug, series)
        .await
        .map_err(|e| ServerFnError::new(ctx::message(e)))
}
