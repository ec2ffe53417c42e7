//! Commit details from the environment (GitHub Actions variables) and from git.

use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GitInfo {
    pub branch: Option<String>,
    pub sha: Option<String>,
    pub parent: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    /// Pull-request number, from `GITHUB_REF=refs/pull/N/merge`.
    pub pull_request: Option<u64>,
    /// Target branch of a pull request (`GITHUB_BASE_REF`).
    pub base_branch: Option<String>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The pull-request number of a GitHub ref such as `refs/pull/42/merge`.
pub fn pull_request_number(git_ref: &str) -> Option<u64> {
    let rest = git_ref.strip_prefix("refs/pull/")?;
    let (n, _) = rest.split_once('/').unwrap_or((rest, ""));
    n.parse().ok()
}

/// Reads what it can; anything missing stays `None`. In GitHub Actions the branch of
/// a pull request is `GITHUB_HEAD_REF` (the checkout is a detached merge commit), and
/// `GITHUB_SHA` names the commit measured.
pub fn discover(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> GitInfo {
    let env = |k: &str| env(k).filter(|s| !s.trim().is_empty());
    let sha = env("GITHUB_SHA").or_else(|| git(dir, &["rev-parse", "HEAD"]));
    let git_ref = env("GITHUB_REF");
    let pull_request = git_ref.as_deref().and_then(pull_request_number);
    let branch = env("GITHUB_HEAD_REF")
        .or_else(|| {
            // GITHUB_REF_NAME is `42/merge` on pull requests: not a branch.
            env("GITHUB_REF_NAME").filter(|_| pull_request.is_none())
        })
        .or_else(|| {
            git_ref
                .as_deref()
                .and_then(|r| r.strip_prefix("refs/heads/").map(str::to_string))
        })
        .or_else(|| git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let rev = sha.clone().unwrap_or_else(|| "HEAD".into());
    let parent = git(
        dir,
        &["rev-parse", "--verify", "--quiet", &format!("{rev}^")],
    );
    let author = git(dir, &["log", "-1", "--format=%an <%ae>", &rev]);
    let message = git(dir, &["log", "-1", "--format=%s", &rev]);
    let time = git(dir, &["log", "-1", "--format=%cI", &rev])
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    GitInfo {
        branch,
        sha,
        parent,
        author,
        message,
        time,
        pull_request,
        base_branch: env("GITHUB_BASE_REF"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_number_from_github_ref() {
        assert_eq!(pull_request_number("refs/pull/42/merge"), Some(42));
        assert_eq!(pull_request_number("refs/pull/7/head"), Some(7));
        assert_eq!(pull_request_number("refs/heads/main"), None);
        assert_eq!(pull_request_number("refs/pull/x/merge"), None);
    }

    #[test]
    fn github_env_wins_over_git() {
        let env = |k: &str| match k {
            "GITHUB_SHA" => Some("abc123".to_string()),
            "GITHUB_REF" => Some("refs/pull/9/merge".to_string()),
            "GITHUB_REF_NAME" => Some("9/merge".to_string()),
            "GITHUB_HEAD_REF" => Some("feature-x".to_string()),
            "GITHUB_BASE_REF" => Some("main".to_string()),
            _ => None,
        };
        let dir = std::env::temp_dir();
        let g = discover(&dir, &env);
        assert_eq!(g.sha.as_deref(), Some("abc123"));
        assert_eq!(g.branch.as_deref(), Some("feature-x"));
        assert_eq!(g.pull_request, Some(9));
        assert_eq!(g.base_branch.as_deref(), Some("main"));
    }
}
