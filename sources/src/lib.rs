//! Metric sources: Prometheus-compatible HTTP API queries evaluated over a run's exact
//! time window and turned into perfwatch results.
//!
//! The crate holds no storage and knows nothing of the database: the job worker and the
//! API call [`collect::collect_window`] and store what [`results::to_results`] returns.
//! See docs/metrics.md for the `[metrics]` table, placeholders, checks and rules.
//!
//! Modules, one job each:
//! - [`duration`]: `90s` / `5m` durations in and Prometheus durations out,
//! - [`config`]: the `[metrics]` table of a job definition → [`PromSource`] + [`QuerySpec`]s,
//! - [`template`]: `{{window}}`-style placeholders, expanded with escaping,
//! - [`check`]: save-time checks of a template with the `promql-parser` crate,
//! - [`prometheus`]: the HTTP API client and its typed errors,
//! - [`collect`]: instant value + coverage per query over one window,
//! - [`results`]: collected values → native results and run metadata,
//! - [`source`]: the trait that source kinds implement.

pub mod check;
pub mod collect;
pub mod config;
pub mod duration;
mod keys;
pub mod prometheus;
pub mod results;
pub mod source;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

pub use check::{check_keeps_label, check_template};
pub use collect::{collect_window, not_before, CollectedValue, Collection};
pub use config::{parse_metrics_table, Auth, ConfigError, Mode, OnEmpty, PromSource, QuerySpec};
pub use prometheus::{PromClient, QueryData, SourceError};
pub use results::to_results;
pub use source::MetricSource;
pub use template::{expand, TemplateError, WindowVars};
