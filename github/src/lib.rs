//! GitHub for perfwatch jobs: webhook signatures, event payloads, `/perfwatch`
//! commands, the sticky PR comment and a REST client; with the `fake` feature, a
//! recording fake GitHub server for tests. No storage: the backend owns all state.
//!
//! A webhook delivery goes through it like this (the backend stores and queues in
//! between):
//!
//! ```
//! use perfwatch_github::{parse, parse_comment, repository_of, sign, verify, Command, Event};
//!
//! let body = br#"{"action":"created","issue":{"number":7,"pull_request":{}},
//!   "comment":{"id":1,"body":"/perfwatch run repeats=3","author_association":"MEMBER",
//!   "user":{"login":"alice","type":"User"}},"repository":{"full_name":"Org/Repo"}}"#;
//! let header = sign(b"secret", body); // what GitHub sends as X-Hub-Signature-256
//!
//! let repo = repository_of(body).unwrap(); // "org/repo": look up its secret
//! verify(b"secret", body, Some(&header)).unwrap(); // 401 otherwise
//! let Event::IssueComment(c) = parse("issue_comment", body).unwrap() else { panic!() };
//! assert_eq!(repo, "org/repo");
//! assert_eq!(parse_comment(&c.body), Some(Ok(Command::Run { repeats: Some(3) })));
//! ```

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
    parse, repository_of, CheckRun, DeploymentStatus, Event, EventError, IssueComment, PullRequest,
    Push, Release,
};
pub use signature::{sign, verify, SignatureError};
