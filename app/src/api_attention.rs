//! Server functions of the home page's attention panel and the compare page's short
//! link button: thin, like `api.rs`.

use leptos::prelude::*;

use crate::api_error::AppError;
use perfwatch_core::attention::Attention;

/// Every project's attention row.
#[server(prefix = "/fn")]
pub async fn fetch_attention() -> Result<Attention, AppError> {
    let store = crate::api_ctx::store()?;
    perfwatch_backend::attention::attention(&store)
        .await
        .map_err(AppError::from)
}

/// Stores a short link for a compare query (triage right on the project, like
/// `POST /api/v1/projects/{slug}/compare/short`) and answers its path, `/c/<id>`.
#[server(prefix = "/fn", endpoint = "create_short_link")]
pub async fn create_short_link(slug: String, query: String) -> Result<String, AppError> {
    use crate::api_ctx::actor;
    use perfwatch_backend::accounts::Right;
    use perfwatch_core::comparison::CompareSpec;
    let store = crate::api_ctx::store()?;
    let project = store.project_ref(&slug).await.map_err(AppError::from)?;
    actor()
        .require(Right::Triage, Some(project.id))
        .map_err(AppError::from)?;
    let spec = CompareSpec::from_query_string(&query)
        .map_err(|(field, reason)| AppError::invalid(field, reason))?;
    if spec.head.is_none() {
        return Err(AppError::invalid("query", "needs head=…"));
    }
    let id = store
        .create_short_link(project.id, &spec.to_query_string())
        .await
        .map_err(AppError::from)?;
    Ok(format!("/c/{id}"))
}
