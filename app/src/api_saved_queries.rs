//! The metric sources page's saved queries: the list, "Save query" and "Delete"
//! (admins of the project, like `PUT …/metric-sources/{name}`). Thin: check the right,
//! call `perfwatch_backend::query_save`, which saves through the same path as the API.

// A server function takes the form's fields one argument each, and the allow on the
// function does not reach the client stub `#[server]` generates.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::api_error::AppError;
use serde::{Deserialize, Serialize};

/// A saved query as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedItem {
    pub source: String,
    pub name: String,
    pub unit: String,
    pub direction: Option<String>,
    pub template: String,
    pub by: Option<String>,
    pub empty: String,
    pub step_s: Option<i64>,
}

#[cfg(feature = "ssr")]
fn item(q: perfwatch_backend::query_save::SavedQuery) -> SavedItem {
    SavedItem {
        source: q.source,
        name: q.name,
        unit: q.unit,
        direction: q.direction,
        template: q.template,
        by: q.by,
        empty: q.empty,
        step_s: q.step_s,
    }
}

#[cfg(feature = "ssr")]
async fn admin_store(slug: &str) -> Result<perfwatch_backend::Store, AppError> {
    use crate::api_ctx::{actor, store};
    use perfwatch_backend::accounts::Right;
    let store = store()?;
    let project = store.project_ref(slug).await.map_err(AppError::from)?;
    actor()
        .require(Right::Admin, Some(project.id))
        .map_err(AppError::from)?;
    Ok(store)
}

/// Every query of the project's sources (admins of the project).
#[server(prefix = "/fn", endpoint = "fetch_saved_queries")]
pub async fn fetch_saved_queries(slug: String) -> Result<Vec<SavedItem>, AppError> {
    let store = admin_store(&slug).await?;
    Ok(perfwatch_backend::query_save::saved_queries(&store, &slug)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(item)
        .collect())
}

/// Saves a tested query into its source (replacing the query of that name), and with
/// `collect` = `schedule` also schedules it every `step_s` seconds from `from`.
#[server(prefix = "/fn", endpoint = "save_metric_query")]
pub async fn save_metric_query(
    slug: String,
    source: String,
    name: String,
    unit: String,
    direction: String,
    query: String,
    by: String,
    empty: String,
    collect: String,
    step_s: String,
    from: String,
    timezone: String,
) -> Result<SavedItem, AppError> {
    use perfwatch_backend::query_save::{save_query, schedule_input, SaveQuery};
    let store = admin_store(&slug).await?;
    let key = crate::api_ctx::seal_key()?;
    let schedule = match collect.trim() {
        "" | "window" => None,
        "schedule" if step_s.trim().is_empty() => {
            return Err(AppError::invalid(
                "step_s",
                "a schedule needs a step in seconds",
            ))
        }
        "schedule" => {
            schedule_input(&step_s, &from, &timezone, chrono::Utc::now()).map_err(AppError::from)?
        }
        other => {
            return Err(AppError::invalid(
                "collect",
                format!("'{other}': expected window or schedule"),
            ))
        }
    };
    let q = SaveQuery {
        source,
        name,
        unit,
        direction,
        template: query,
        by,
        empty,
        schedule,
    };
    Ok(item(
        save_query(&store, &key, &slug, &q)
            .await
            .map_err(AppError::from)?,
    ))
}

/// Deletes query `name` of source `source` and the schedule reading it.
#[server(prefix = "/fn", endpoint = "delete_metric_query")]
pub async fn delete_metric_query(
    slug: String,
    source: String,
    name: String,
) -> Result<(), AppError> {
    let store = admin_store(&slug).await?;
    let key = crate::api_ctx::seal_key()?;
    perfwatch_backend::query_save::delete_query(&store, &key, &slug, &source, &name)
        .await
        .map_err(AppError::from)
}
