//! perfwatch-backend: storage (one interface over SQLite and PostgreSQL), the use
//! cases that read, compute with the pure crates, and write, and token auth.

pub mod accounts;
pub mod attention;
pub mod audit;
pub mod backtest;
pub mod baseline;
pub mod charts;
pub mod comparison;
pub mod comparison_history;
pub mod delivery;
pub mod demo;
pub mod deploy_band;
pub mod deploy_verdicts;
pub mod detection;
pub mod error;
pub mod followup;
pub mod holidays;
pub mod ingest;
pub mod login_guard;
pub mod metric_schedules;
pub mod notify;
pub mod observe;
pub mod perf;
pub mod query_save;
pub mod query_test;
pub mod queue;
pub mod release_trend;
pub mod secrets;
pub mod series_band;
pub mod store;
pub mod testing;
pub mod tickets;
pub mod time;
pub mod tokens;
pub mod triage;
pub mod window_metrics;

pub use error::StoreError;
pub use store::Store;
