//! Webhook deliveries as GitHub sends them, for tests: realistic payload bodies (the
//! fields `events.rs` reads and the usual ones around them) and signed headers.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::signature::sign;

/// The all-zero SHA GitHub uses for "no commit" (branch created or deleted).
pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// Distinct ids for payload objects (comments, check runs) within a test process.
static NEXT_ID: AtomicU64 = AtomicU64::new(2_000_000);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The headers and body of a delivery of `event` signed with `secret`.
pub fn webhook_request(
    secret: &[u8],
    event: &str,
    delivery_id: &str,
    body: &Value,
) -> (Vec<(String, String)>, Vec<u8>) {
    let bytes = body.to_string().into_bytes();
    let headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("User-Agent".to_string(), "GitHub-Hookshot/fake".to_string()),
        ("X-GitHub-Event".to_string(), event.to_string()),
        ("X-GitHub-Delivery".to_string(), delivery_id.to_string()),
        ("X-GitHub-Hook-ID".to_string(), "1".to_string()),
        ("X-Hub-Signature-256".to_string(), sign(secret, &bytes)),
    ];
    (headers, bytes)
}

fn user(login: &str) -> Value {
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "login": login,
        "id": 1000 + login.len(),
        "type": kind,
        "site_admin": false,
        "html_url": format!("https://github.com/{login}"),
    })
}

fn repository(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    json!({
        "id": 4242,
        "name": name,
        "full_name": full_name,
        "private": false,
        "owner": user(owner),
        "html_url": format!("https://github.com/{full_name}"),
        "clone_url": format!("https://github.com/{full_name}.git"),
        "default_branch": "main",
        "fork": false,
    })
}

/// A `push` of `branch` from `before` to `after` (use `ZERO_SHA` for creation or
/// deletion; deletion sends a null `head_commit`, as GitHub does).
pub fn push(repo: &str, branch: &str, before: &str, after: &str) -> Value {
    let deleted = after == ZERO_SHA;
    let head_commit = if deleted {
        Value::Null
    } else {
        json!({
            "id": after,
            "tree_id": after,
            "distinct": true,
            "message": "Make it faster",
            "timestamp": "2026-01-01T00:00:00Z",
            "url": format!("https://github.com/{repo}/commit/{after}"),
            "author": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
            "committer": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
        })
    };
    let commits = if deleted {
        json!([])
    } else {
        json!([head_commit])
    };
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": before,
        "after": after,
        "created": before == ZERO_SHA,
        "deleted": deleted,
        "forced": false,
        "base_ref": null,
        "compare": format!("https://github.com/{repo}/compare/{before}...{after}"),
        "commits": commits,
        "head_commit": head_commit,
        "repository": repository(repo),
        "pusher": {"name": "dev", "email": "dev@example.com"},
        "sender": user("dev"),
    })
}

/// A `pull_request` event on `main`. `head_repo` None means the fork was deleted;
/// `Some(repo)` is a branch of the same repository, anything else a fork.
pub fn pull_request(
    repo: &str,
    action: &str,
    number: u64,
    head_sha: &str,
    head_ref: &str,
    base_sha: &str,
    head_repo: Option<&str>,
) -> Value {
    let same = head_repo.is_some_and(|h| h.eq_ignore_ascii_case(repo));
    let (author, association) = if same {
        ("member", "MEMBER")
    } else {
        ("contributor", "CONTRIBUTOR")
    };
    let head_owner = head_repo
        .and_then(|h| h.split_once('/'))
        .map_or("ghost", |(o, _)| o);
    let closed = action == "closed";
    json!({
        "action": action,
        "number": number,
        "pull_request": {
            "id": 90_000 + number,
            "number": number,
            "state": if closed { "closed" } else { "open" },
            "locked": false,
            "title": "Make it faster",
            "body": "This should be faster.",
            "user": user(author),
            "author_association": association,
            "draft": false,
            "merged": false,
            "merge_commit_sha": null,
            "html_url": format!("https://github.com/{repo}/pull/{number}"),
            "head": {
                "label": format!("{head_owner}:{head_ref}"),
                "ref": head_ref,
                "sha": head_sha,
                "user": user(head_owner),
                "repo": head_repo.map(repository),
            },
            "base": {
                "label": format!("{}:main", repo.split('/').next().unwrap_or(repo)),
                "ref": "main",
                "sha": base_sha,
                "repo": repository(repo),
            },
        },
        "repository": repository(repo),
        "sender": user(author),
    })
}

/// A `created` comment by `user` (with author association `association`) on pull
/// request `number`.
pub fn issue_comment(
    repo: &str,
    number: u64,
    body: &str,
    user_login: &str,
    association: &str,
) -> Value {
    json!({
        "action": "created",
        "issue": {
            "number": number,
            "title": "Make it faster",
            "state": "open",
            "user": user("member"),
            "pull_request": {
                "url": format!("https://api.github.com/repos/{repo}/pulls/{number}"),
                "html_url": format!("https://github.com/{repo}/pull/{number}"),
                "merged_at": null,
            },
        },
        "comment": {
            "id": next_id(),
            "body": body,
            "user": user(user_login),
            "author_association": association,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "html_url": format!("https://github.com/{repo}/pull/{number}#issuecomment-1"),
        },
        "repository": repository(repo),
        "sender": user(user_login),
    })
}

/// A check run's "Re-run" button pressed: `check_run` `rerequested`.
pub fn check_run_rerequested(repo: &str, head_sha: &str, external_id: &str) -> Value {
    json!({
        "action": "rerequested",
        "check_run": {
            "id": next_id(),
            "name": "perfwatch",
            "head_sha": head_sha,
            "external_id": external_id,
            "status": "completed",
            "conclusion": "failure",
            "check_suite": {"id": next_id(), "head_sha": head_sha, "head_branch": "main"},
            "app": {"id": 1, "slug": "perfwatch"},
            "pull_requests": [],
        },
        "repository": repository(repo),
        "sender": user("member"),
    })
}

/// The `ping` sent when a repository webhook is created.
pub fn ping(repo: &str) -> Value {
    json!({
        "zen": "Design for failure.",
        "hook_id": 1,
        "hook": {
            "type": "Repository",
            "id": 1,
            "active": true,
            "events": ["push", "pull_request", "issue_comment", "check_run"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "http://127.0.0.1/api/v1/github/webhook"},
        },
        "repository": repository(repo),
        "sender": user("member"),
    })
}

/// A `release` event (`published`).
pub fn release(repo: &str, tag: &str, published_at: &str) -> Value {
    json!({
        "action": "published",
        "release": {
            "id": next_id(),
            "tag_name": tag,
            "name": tag,
            "target_commitish": "main",
            "draft": false,
            "prerelease": false,
            "published_at": published_at,
        },
        "repository": repository(repo),
        "sender": {"login": "octocat", "type": "User"},
    })
}

/// A `deployment_status` event.
pub fn deployment_status(repo: &str, sha: &str, environment: &str, state: &str, at: &str) -> Value {
    json!({
        "action": "created",
        "deployment_status": {"id": next_id(), "state": state, "created_at": at, "environment": environment},
        "deployment": {"id": next_id(), "sha": sha, "ref": "main", "environment": environment, "task": "deploy"},
        "repository": repository(repo),
        "sender": {"login": "octocat", "type": "User"},
    })
}
