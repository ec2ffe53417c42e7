//! Webhook event payloads: the few fields perfwatch acts on, read strictly so that a
//! malformed delivery is refused with the JSON path at fault instead of half-parsed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json_path::{array, flag, opt_string, string, uint};

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body is not a JSON document.
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    /// A required field is absent or null.
    #[error("payload field `{0}` is missing")]
    Missing(String),
    /// A field has the wrong JSON type.
    #[error("payload field `{path}` should be {expected}")]
    WrongType {
        /// Dotted JSON path, e.g. `pull_request.number`.
        path: String,
        /// What was expected there, e.g. "a string".
        expected: &'static str,
    },
}

/// One webhook delivery, by its `X-GitHub-Event` name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// `ping`, sent when the webhook is created.
    Ping {
        /// GitHub's random aphorism, if sent.
        zen: Option<String>,
    },
    /// `push`.
    Push(Push),
    /// `pull_request`.
    PullRequest(PullRequest),
    /// `issue_comment` (on issues and pull requests alike).
    IssueComment(IssueComment),
    /// `check_run`.
    CheckRun(CheckRun),
    /// `release` (a release marker).
    Release(Release),
    /// `deployment_status` (a deploy marker when a deployment succeeded).
    DeploymentStatus(DeploymentStatus),
    /// Any other event, by name; acknowledged and ignored.
    Other(String),
}

/// A `push` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// `repository.full_name`, lower-cased.
    pub repo: String,
    /// `refs/heads/x` → `x`; tags and other refs → None.
    pub branch: Option<String>,
    /// SHA before the push (all zeros when the branch was created).
    pub before: String,
    /// SHA after the push (all zeros when the branch was deleted).
    pub after: String,
    /// The ref was deleted.
    pub deleted: bool,
    /// The push was a force-push.
    pub forced: bool,
    /// `pusher.name`.
    pub pusher: String,
    /// `head_commit.message`; None when there is no head commit (deletion).
    pub head_message: Option<String>,
}

/// A `pull_request` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// `opened`, `synchronize`, `reopened`, `closed`, …
    pub action: String,
    /// The pull request number.
    pub number: u64,
    /// `pull_request.head.sha`.
    pub head_sha: String,
    /// `pull_request.head.ref` (branch name in the head repository).
    pub head_ref: String,
    /// `pull_request.head.repo.full_name`, lower-cased; None when the fork was deleted.
    pub head_repo: Option<String>,
    /// `pull_request.base.ref`.
    pub base_ref: String,
    /// `pull_request.base.sha`.
    pub base_sha: String,
    /// `pull_request.base.repo.full_name`, lower-cased.
    pub base_repo: String,
    /// `pull_request.user.login`.
    pub author: String,
    /// `pull_request.author_association` (OWNER, MEMBER, CONTRIBUTOR, …).
    pub author_association: String,
    /// `pull_request.merged` (false when absent).
    pub merged: bool,
    /// `pull_request.draft` (false when absent).
    pub draft: bool,
}

impl PullRequest {
    /// True when the head lives in another repository than the base. A deleted head
    /// repository counts as a fork: its code cannot be trusted as the base's own.
    pub fn from_fork(&self) -> bool {
        self.head_repo.as_deref() != Some(self.base_repo.as_str())
    }
}

/// An `issue_comment` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueComment {
    /// `created`, `edited` or `deleted`.
    pub action: String,
    /// `issue.number` (the PR number when `is_pull_request`).
    pub issue_number: u64,
    /// The issue is a pull request (`issue.pull_request` is present).
    pub is_pull_request: bool,
    /// `comment.id`.
    pub comment_id: u64,
    /// `comment.body` (empty when null).
    pub body: String,
    /// `comment.user.login`.
    pub user: String,
    /// `comment.user.type == "Bot"`, so the bot never answers itself.
    pub user_is_bot: bool,
    /// `comment.author_association`.
    pub author_association: String,
}

/// A `check_run` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    /// `created`, `completed`, `rerequested`, `requested_action`.
    pub action: String,
    /// `check_run.id`.
    pub check_run_id: u64,
    /// `check_run.head_sha`.
    pub head_sha: String,
    /// `check_run.external_id` as perfwatch set it (None when empty or absent).
    pub external_id: Option<String>,
    /// Numbers of the pull requests in `check_run.pull_requests`.
    pub pull_requests: Vec<u64>,
}

/// A `release` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// `published`, `released`, `created`, `edited`, `deleted`, …
    pub action: String,
    /// `release.tag_name`.
    pub tag: String,
    /// `release.name` when set.
    pub name: Option<String>,
    /// `release.published_at` (RFC 3339) when published.
    pub published_at: Option<String>,
    /// `release.prerelease`.
    pub prerelease: bool,
}

/// A `deployment_status` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    /// `deployment_status.state`: `success`, `failure`, `in_progress`, …
    pub state: String,
    /// `deployment.sha`: the commit deployed.
    pub sha: String,
    /// `deployment.environment`.
    pub environment: String,
    /// `deployment.ref`: the branch, tag or sha asked for.
    pub git_ref: Option<String>,
    /// `deployment_status.created_at` (RFC 3339).
    pub at: Option<String>,
}

fn release(v: &Value) -> Result<Release, EventError> {
    Ok(Release {
        action: string(v, "action")?,
        tag: string(v, "release.tag_name")?,
        name: opt_string(v, "release.name")?,
        published_at: opt_string(v, "release.published_at")?,
        prerelease: flag(v, "release.prerelease")?,
    })
}

fn deployment_status(v: &Value) -> Result<DeploymentStatus, EventError> {
    Ok(DeploymentStatus {
        state: string(v, "deployment_status.state")?,
        sha: string(v, "deployment.sha")?.to_lowercase(),
        environment: string(v, "deployment.environment")?,
        git_ref: opt_string(v, "deployment.ref")?,
        at: opt_string(v, "deployment_status.created_at")?,
    })
}

fn json(body: &[u8]) -> Result<Value, EventError> {
    serde_json::from_slice(body).map_err(|e| EventError::NotJson(e.to_string()))
}

/// `repository.full_name`, lower-cased. Read before the signature is checked, to find
/// which repository's secret to check it with; nothing else is trusted before that.
pub fn repository_of(body: &[u8]) -> Result<String, EventError> {
    Ok(string(&json(body)?, "repository.full_name")?.to_lowercase())
}

/// Parses a delivery body for the `X-GitHub-Event` name `event`.
pub fn parse(event: &str, body: &[u8]) -> Result<Event, EventError> {
    // Unknown events are acknowledged without reading the body at all, so a new kind
    // of event GitHub adds (or a body we cannot read) never fails a delivery.
    let parser: fn(&Value) -> Result<Event, EventError> = match event {
        "ping" => |v| {
            Ok(Event::Ping {
                zen: opt_string(v, "zen")?,
            })
        },
        "push" => |v| push(v).map(Event::Push),
        "pull_request" => |v| pull_request(v).map(Event::PullRequest),
        "issue_comment" => |v| issue_comment(v).map(Event::IssueComment),
        "check_run" => |v| check_run(v).map(Event::CheckRun),
        "release" => |v| release(v).map(Event::Release),
        "deployment_status" => |v| deployment_status(v).map(Event::DeploymentStatus),
        other => return Ok(Event::Other(other.to_string())),
    };
    parser(&json(body)?)
}

fn push(v: &Value) -> Result<Push, EventError> {
    let git_ref = string(v, "ref")?;
    Ok(Push {
        repo: string(v, "repository.full_name")?.to_lowercase(),
        branch: git_ref.strip_prefix("refs/heads/").map(str::to_string),
        before: string(v, "before")?,
        after: string(v, "after")?,
        deleted: flag(v, "deleted")?,
        forced: flag(v, "forced")?,
        pusher: string(v, "pusher.name")?,
        head_message: opt_string(v, "head_commit.message")?,
    })
}

fn pull_request(v: &Value) -> Result<PullRequest, EventError> {
    Ok(PullRequest {
        action: string(v, "action")?,
        number: uint(v, "number")?,
        head_sha: string(v, "pull_request.head.sha")?,
        head_ref: string(v, "pull_request.head.ref")?,
        head_repo: opt_string(v, "pull_request.head.repo.full_name")?.map(|s| s.to_lowercase()),
        base_ref: string(v, "pull_request.base.ref")?,
        base_sha: string(v, "pull_request.base.sha")?,
        base_repo: string(v, "pull_request.base.repo.full_name")?.to_lowercase(),
        author: string(v, "pull_request.user.login")?,
        author_association: string(v, "pull_request.author_association")?,
        merged: flag(v, "pull_request.merged")?,
        draft: flag(v, "pull_request.draft")?,
    })
}

fn issue_comment(v: &Value) -> Result<IssueComment, EventError> {
    Ok(IssueComment {
        action: string(v, "action")?,
        issue_number: uint(v, "issue.number")?,
        is_pull_request: crate::json_path::get(v, "issue.pull_request").is_some(),
        comment_id: uint(v, "comment.id")?,
        body: opt_string(v, "comment.body")?.unwrap_or_default(),
        user: string(v, "comment.user.login")?,
        user_is_bot: opt_string(v, "comment.user.type")?.as_deref() == Some("Bot"),
        author_association: string(v, "comment.author_association")?,
    })
}

fn check_run(v: &Value) -> Result<CheckRun, EventError> {
    let mut pull_requests = Vec::new();
    for (i, pr) in array(v, "check_run.pull_requests")?.iter().enumerate() {
        // Index the path so an error points at the exact element.
        let number = uint(pr, "number").map_err(|e| match e {
            EventError::Missing(_) => {
                EventError::Missing(format!("check_run.pull_requests.{i}.number"))
            }
            EventError::WrongType { expected, .. } => EventError::WrongType {
                path: format!("check_run.pull_requests.{i}.number"),
                expected,
            },
            other => other,
        })?;
        pull_requests.push(number);
    }
    Ok(CheckRun {
        action: string(v, "action")?,
        check_run_id: uint(v, "check_run.id")?,
        head_sha: string(v, "check_run.head_sha")?,
        external_id: opt_string(v, "check_run.external_id")?.filter(|s| !s.is_empty()),
        pull_requests,
    })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
