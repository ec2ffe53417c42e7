//! Executing one performance job on a worker machine: the `.perfwatch.toml` definition
//! ([`definition`]), step processes in their own process groups ([`process`],
//! [`service`]), git mirrors and checkouts ([`git`]) and the repeat/ABAB runner
//! ([`runner`]). No storage, no database, no GitHub: the backend worker calls
//! [`runner::run_job`] and stores the [`runner::JobOutput`].

mod canonical;
pub mod definition;
pub mod duration;
pub mod git;
mod group;
mod load;
mod locate;
mod output;
pub mod process;
mod raw;
pub mod runner;
pub mod service;
pub mod sides;
mod spec;
mod workdir;

pub use definition::{parse, DefinitionError, JobDefinition, LoadStep, ServiceStep, Step};
pub use git::{CommitMeta, GitError, Mirror};
pub use process::{run_step, LogSink, StepError, StepRun, Stream};
pub use runner::{
    run_job, Collected, JobError, JobOutput, JobSpec, MetricsCollector, Side, SideRun, StepRecord,
};
pub use service::{start_service, ServiceHandle};
