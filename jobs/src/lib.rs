//! Executing one performance job on a worker machine: the `.perfwatch.toml` definition
//! ([`definition`]), step processes in their own process groups ([`process`],
//! [`service`]), git mirrors and checkouts ([`git`]) and the repeat/ABAB runner
//! ([`runner`]). No storage, no database, no GitHub: the backend worker calls
//! [`runner::run_job`] and stores the [`runner::JobOutput`].

mod canonical;
pub mod definition;
pub mod duration;
mod group;
mod locate;
mod output;
pub mod process;
pub mod service;

pub use definition::{parse, DefinitionError, JobDefinition, LoadStep, ServiceStep, Step};
pub use process::{run_step, LogSink, StepError, StepRun, Stream};
pub use service::{start_service, ServiceHandle};
