//! A project's GitHub integration as the API returns it and the integration page shows
//! it: shared by the server and the browser build (the wasm app cannot depend on the
//! backend), so it lives here. It holds no secret, only whether one is set.

use serde::{Deserialize, Serialize};

/// What anyone allowed to see the integration sees: no secret, only whether one is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationView {
    pub repo: String,
    pub api_base: String,
    pub clone_url: String,
    pub master_branches: Vec<String>,
    pub commanders: Vec<String>,
    pub definition: Option<String>,
    pub concurrency: i64,
    pub reconcile_every_s: i64,
    pub webhook_secret_set: bool,
    /// `token`, `app` or `none`.
    pub reporting: String,
    pub app_id: Option<i64>,
    pub installation_id: Option<i64>,
}
