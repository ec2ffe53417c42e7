//! What the client sends to and reads from GitHub's REST API, and the translation of
//! GitHub's JSON into these types (strict: a missing field names its JSON path).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client_error::ClientError;
use crate::json_path;

/// GitHub cuts commit status descriptions longer than this; longer ones are refused.
const STATUS_DESCRIPTION_MAX: usize = 140;
/// GitHub's limit on a check run's `output.summary` (and `output.text`).
const CHECK_SUMMARY_MAX: usize = 65_535;

/// A commit status (the token-credentials way of reporting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReq {
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    /// The status's name on the commit, e.g. `perfwatch`.
    pub context: String,
    /// One line; cut to 140 characters when sent.
    pub description: String,
    /// Link from the status to the job page.
    pub target_url: Option<String>,
}

/// A check run, created or updated (the GitHub App way of reporting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunReq {
    /// The check's name, e.g. `perfwatch`.
    pub name: String,
    /// The commit the check is on (ignored on update: GitHub does not move checks).
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Required by GitHub when `status` is `completed`: `success`, `failure`, `neutral`, …
    pub conclusion: Option<String>,
    /// perfwatch's own id for the check (the job id), returned in `check_run` events.
    pub external_id: Option<String>,
    /// Link from the check to the job page.
    pub details_url: Option<String>,
    /// `output.title`.
    pub title: String,
    /// `output.summary` (markdown); cut to GitHub's 65,535 characters when sent.
    pub summary: String,
}

/// One comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCommentInfo {
    /// The comment id (for `update_issue_comment`).
    pub id: u64,
    /// The markdown body.
    pub body: String,
    /// The author's login.
    pub user: String,
}

/// The parts of a pull request perfwatch needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullInfo {
    /// The PR number.
    pub number: u64,
    /// `open` or `closed`.
    pub state: String,
    /// Head commit.
    pub head_sha: String,
    /// Head branch name (in the head repository).
    pub head_ref: String,
    /// `head.repo.full_name`, lower-cased; None when the fork was deleted.
    pub head_repo: Option<String>,
    /// Base branch name.
    pub base_ref: String,
    /// Base commit when the PR was last updated.
    pub base_sha: String,
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl StatusReq {
    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "state": self.state,
            "context": self.context,
            "description": cut(&self.description, STATUS_DESCRIPTION_MAX),
        });
        if let Some(url) = &self.target_url {
            v["target_url"] = json!(url);
        }
        v
    }
}

impl CheckRunReq {
    /// The JSON body; `with_head_sha` false for PATCH, which does not take it.
    pub(crate) fn to_json(&self, with_head_sha: bool) -> Value {
        let mut v = json!({
            "name": self.name,
            "status": self.status,
            "output": {"title": self.title, "summary": cut(&self.summary, CHECK_SUMMARY_MAX)},
        });
        if with_head_sha {
            v["head_sha"] = json!(self.head_sha);
        }
        for (key, value) in [
            ("conclusion", &self.conclusion),
            ("external_id", &self.external_id),
            ("details_url", &self.details_url),
        ] {
            if let Some(value) = value {
                v[key] = json!(value);
            }
        }
        v
    }
}

/// Maps a json_path error into a decode error that says which response it was in.
fn decode<T>(what: &str, r: Result<T, crate::events::EventError>) -> Result<T, ClientError> {
    r.map_err(|e| ClientError::Decode(format!("{what}: {e}")))
}

impl IssueCommentInfo {
    pub(crate) fn from_github(v: &Value) -> Result<IssueCommentInfo, ClientError> {
        let what = "issue comment";
        Ok(IssueCommentInfo {
            id: decode(what, json_path::uint(v, "id"))?,
            body: decode(what, json_path::opt_string(v, "body"))?.unwrap_or_default(),
            // A deleted account's comments have a null user ("ghost").
            user: decode(what, json_path::opt_string(v, "user.login"))?
                .unwrap_or_else(|| "ghost".into()),
        })
    }
}

impl PullInfo {
    pub(crate) fn from_github(v: &Value) -> Result<PullInfo, ClientError> {
        let what = "pull request";
        let s = |path| decode(what, json_path::string(v, path));
        Ok(PullInfo {
            number: decode(what, json_path::uint(v, "number"))?,
            state: s("state")?,
            head_sha: s("head.sha")?,
            head_ref: s("head.ref")?,
            head_repo: decode(what, json_path::opt_string(v, "head.repo.full_name"))?
                .map(|r| r.to_lowercase()),
            base_ref: s("base.ref")?,
            base_sha: s("base.sha")?,
        })
    }
}

/// The objects of a JSON array answer (list endpoints).
pub(crate) fn array_of(what: &str, v: Value) -> Result<Vec<Value>, ClientError> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(ClientError::Decode(format!(
            "{what}: expected a JSON array"
        ))),
    }
}

/// `id` of a created object.
pub(crate) fn id_of(what: &str, v: &Value) -> Result<u64, ClientError> {
    decode(what, json_path::uint(v, "id"))
}

/// `commit.sha` of a branch.
pub(crate) fn branch_sha(v: &Value) -> Result<String, ClientError> {
    decode("branch", json_path::string(v, "commit.sha"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_cut_and_optional_fields_left_out() {
        let s = StatusReq {
            state: "success".into(),
            context: "perfwatch".into(),
            description: "é".repeat(200),
            target_url: None,
        };
        let v = s.to_json();
        assert_eq!(v["description"].as_str().unwrap().chars().count(), 140);
        assert!(v.get("target_url").is_none());
        let c = CheckRunReq {
            name: "perfwatch".into(),
            head_sha: "abc".into(),
            status: "completed".into(),
            conclusion: Some("success".into()),
            external_id: None,
            details_url: Some("http://x".into()),
            title: "t".into(),
            summary: "s".repeat(70_000),
        };
        let v = c.to_json(false);
        assert!(v.get("head_sha").is_none() && v.get("external_id").is_none());
        assert_eq!(v["conclusion"], "success");
        assert_eq!(
            v["output"]["summary"].as_str().unwrap().len(),
            CHECK_SUMMARY_MAX
        );
        assert_eq!(c.to_json(true)["head_sha"], "abc");
    }

    #[test]
    fn decoding_names_the_field() {
        let v = json!({"number": 1, "state": "open", "head": {"ref": "f", "repo": null},
                       "base": {"ref": "main", "sha": "b"}});
        let e = PullInfo::from_github(&v).unwrap_err();
        assert!(e.to_string().contains("head.sha"), "{e}");
        let c =
            IssueCommentInfo::from_github(&json!({"id": 3, "body": null, "user": null})).unwrap();
        assert_eq!((c.id, c.body.as_str(), c.user.as_str()), (3, "", "ghost"));
        assert!(array_of("x", json!({})).is_err());
        assert!(branch_sha(&json!({"commit": {}})).is_err());
    }
}
