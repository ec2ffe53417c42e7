//! State shared by every handler.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use perfwatch_backend::Store;

use crate::config::ServerConfig;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// Base URL for links.
    pub public_url: Arc<str>,
    /// The background follow-up worker; `None` when detection runs inline.
    pub followups: Option<perfwatch_backend::followup::FollowUps>,
    /// Failed-login counts and the password-check slots.
    pub login_guard: Arc<perfwatch_backend::login_guard::LoginGuard>,
    /// This server's metrics (`GET /metrics`).
    pub metrics: Arc<perfwatch_backend::observe::Metrics>,
    /// Seals and opens integration secrets at rest.
    pub seal: perfwatch_backend::secrets::SealKey,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}
