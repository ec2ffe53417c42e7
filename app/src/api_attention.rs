//! Server functions of the home page's attention panel and the compare page's short
//! link button: thin, like `api.rs`.

use leptos::prelude::*;
use perfwatch_core::attention::Attention;

/// Every project's attention row.
#[server(prefix = "/fn")]
pub async fn fetch_attention() -> Result<Attention, ServerFnError> {
    let store = crate::api::ctx::store()?;
    perfwatch_backend::attention::attention(&store)
        .await
        .map_err(crate::api::ctx::map_err)
}

/// Stores a short link for a compare query (triage right on the project, like
/// `POST /api/v1/projects/{slug}/compare/short`) and answers its path, `/c/<id>`.
#[server(prefix = "/fn", endpoint = "create_short_link")]
pub async fn create_short_link(slug: String, query: String) -> Result<String, ServerFnError> {
    use crate::api_triage::server::{actor, map_err};
    use perfwatch_backend::accounts::Right;
    use perfwatch_core::comparison::CompareSpec;
    let store = crate::api::ctx::store()?;
    let project = store.project(&slug).await.map_err(map_err)?;
    actor()
        .require(Right::Triage, Some(project.id))
        .map_err(map_err)?;
    let spec = CompareSpec::from_query_string(&query)
        .map_err(|(field, reason)| ServerFnError::new(format!("{field}: {reason}")))?;
    if spec.head.is_none() {
        return Err(ServerFnError::new("query: needs head=…"));
    }
    let id = store
        .create_short_link(project.id, &spec.to_query_string())
        .await
        .map_err(map_err)?;
    Ok(format!("/c/{id}"))
}
