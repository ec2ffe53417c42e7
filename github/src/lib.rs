//! GitHub for perfwatch jobs: webhook signatures, event payloads, `/perfwatch`
//! commands, the sticky PR comment and a REST client; with the `fake` feature, a
//! recording fake GitHub server for tests. No storage: the backend owns all state.

pub mod commands;
pub mod comment;
pub mod events;
mod json_path;
pub mod signature;

pub use commands::{may_command, parse_comment, Command, CommandError};
pub use comment::{is_sticky, sticky_body, MARKER};
pub use events::{
    parse, repository_of, CheckRun, Event, EventError, IssueComment, PullRequest, Push,
};
pub use signature::{sign, verify, SignatureError};
