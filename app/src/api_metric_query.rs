//! The metric sources page's data and its "test query" button (admins of the project:
//! source URLs may be internal, and a test calls the source with its stored
//! credentials). Thin: check the right, call `perfwatch_backend::query_test`.

use leptos::prelude::*;

use crate::api_error::AppError;
use serde::{Deserialize, Serialize};

/// A source as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    pub name: String,
    pub config: String,
    pub queries: Vec<String>,
}

/// One value of a tested query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestedValue {
    pub label: Option<String>,
    pub value: Option<f64>,
    pub series_count: usize,
    pub coverage: f64,
    pub invalid: Option<String>,
    pub note: Option<String>,
}

/// What the test showed: the window, the expanded query, the values or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestedQuery {
    /// What was tested, so "Save query" saves exactly that.
    pub source: String,
    pub template: String,
    pub by: String,
    pub window: String,
    pub start: i64,
    pub end: i64,
    pub query_text: Option<String>,
    pub values: Vec<TestedValue>,
    pub error: Option<String>,
}

/// The project's metric sources (admins of the project).
#[server(prefix = "/fn")]
pub async fn fetch_metric_sources(slug: String) -> Result<Vec<SourceItem>, AppError> {
    use crate::api_ctx::{actor, store};
    use perfwatch_backend::accounts::Right;
    let store = store()?;
    let project = store.project_ref(&slug).await.map_err(AppError::from)?;
    actor()
        .require(Right::Admin, Some(project.id))
        .map_err(AppError::from)?;
    Ok(
        perfwatch_backend::window_metrics::list_sources(&store, &slug)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|s| SourceItem {
                name: s.name,
                config: s.config,
                queries: s.queries,
            })
            .collect(),
    )
}

/// Evaluates an unsaved query template against a stored source over the latest run's
/// window (`window` = `run`) or the last settled hour (`hour`). Admins of the project.
#[server(prefix = "/fn", endpoint = "test_metric_query")]
pub async fn test_metric_query(
    slug: String,
    source: String,
    query: String,
    by: String,
    window: String,
) -> Result<TestedQuery, AppError> {
    use crate::api_ctx::{actor, store};
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::query_test::{test_query, TestInput, TestWindow};
    let store = store()?;
    let project = store.project_ref(&slug).await.map_err(AppError::from)?;
    actor()
        .require(Right::Admin, Some(project.id))
        .map_err(AppError::from)?;
    let key = crate::api_ctx::seal_key()?;
    let window = TestWindow::parse(&window).map_err(AppError::from)?;
    let t = test_query(
        &store,
        &key,
        &slug,
        &TestInput {
            source: &source,
            template: &query,
            by: &by,
            window,
        },
    )
    .await
    .map_err(AppError::from)?;
    Ok(TestedQuery {
        source,
        template: query,
        by,
        window: t.window,
        start: t.start,
        end: t.end,
        query_text: t.query_text,
        values: t
            .values
            .into_iter()
            .map(|v| TestedValue {
                label: v.label,
                value: v.value,
                series_count: v.series_count,
                coverage: v.coverage,
                invalid: v.invalid,
                note: v.note,
            })
            .collect(),
        error: t.error,
    })
}
