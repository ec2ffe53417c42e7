//! Performance jobs from GitHub (docs/jobs.md): the project's integration settings, the
//! webhook inbox, turning deliveries and commands into jobs, executing jobs on runner
//! slots, storing and comparing their results, and reporting back through an outbox.
//! Pure parts live in `perfwatch-github` (payloads, signatures, commands, comment) and
//! `perfwatch-jobs` (definitions, processes, git, the runner); SQL in
//! `store/perf_jobs.rs` and `store/github.rs`.

pub mod commands;
pub mod deliveries;
pub mod enqueue;
pub mod inbox;
pub mod integration;
mod logs;
pub mod markers;
mod metrics_step;
pub mod reconcile;
pub mod report;
pub mod results;
pub mod run;
mod stop_watch;
pub mod summary;
pub mod workers;

pub use integration::{IntegrationInput, IntegrationView};
pub use workers::{spawn_perf_workers, PerfConfig};
