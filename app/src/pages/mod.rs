//! One page per file.

pub mod account;
pub mod admin;
pub mod alert_group;
pub mod alerts;
pub mod attention;
pub mod audit;
pub mod compare;
pub mod compare_picker;
pub mod deploy;
pub mod integration;
pub mod job;
pub mod login;
pub mod metric_sources;
pub mod metric_sources_saved;
pub mod project;
pub mod projects;
pub mod queue;
pub mod release_trend;
pub mod releases;
pub mod run;
pub mod run_list;
pub mod series;
pub mod series_filter;

/// The message of a failed page load; during server rendering a "not found" also sets
/// the response status to 404, so links to missing things are not cached as pages.
pub(crate) fn load_error(e: &leptos::prelude::ServerFnError) -> String {
    let msg = e.to_string();
    let msg = msg.rsplit(": ").next().unwrap_or(&msg).to_string();
    #[cfg(feature = "ssr")]
    if msg.contains("not found") {
        if let Some(r) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            r.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    msg
}
