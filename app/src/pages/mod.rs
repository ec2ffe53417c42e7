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

/// The message of a failed page load. During server rendering it also sets the
/// response status from the error's kind (404 for a missing thing, 401/403 for a
/// refusal, …), so links to missing things are not cached as pages.
pub(crate) fn load_error(e: &crate::api_error::AppError) -> String {
    #[cfg(feature = "ssr")]
    crate::api_ctx::set_status(e);
    e.to_string()
}
