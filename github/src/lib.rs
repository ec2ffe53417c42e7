//! GitHub for perfwatch jobs: webhook signatures, event payloads, `/perfwatch`
//! commands, the sticky PR comment and a REST client; with the `fake` feature, a
//! recording fake GitHub server for tests. No storage: the backend owns all state.

mod api_types;
mod app_auth;
pub mod client;
mod client_error;
pub mod commands;
pub mod comment;
pub mod events;
#[cfg(feature = "fake")]
pub mod fake;
mod json_path;
mod link;
pub mod signature;
mod transport;

pub use api_types::{CheckRunReq, IssueCommentInfo, PullInfo, StatusReq};
pub use client::{Client, Credentials};
pub use client_error::ClientError;
pub use commands::{may_command, parse_comment, Command, CommandError, HELP};
pub use comment::{is_sticky, sticky_body, MARKER};
pub use events::{
    parse, repository_of, CheckRun, Event, EventError, IssueComment, PullRequest, Push,
};
pub use signature::{sign, verify, SignatureError};
