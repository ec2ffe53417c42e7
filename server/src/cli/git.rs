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

/// Reads what it can; anything missing stays `None`. In GitHub Actions the branch of
/// a pull request is `GITHUB_HEAD_REF` (the checkout is a detached merge commit), and
/// `GITHUB_SHA` names the commit measured.
pub fn discover(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> GitInfo {
    let sha = env("GITHUB_SHA").or_else(|| git(dir, &["rev-parse", "HEAD"]));
    let branch = env("GITHUB_HEAD_REF")
        .filter(|s| !s.is_empty())
        .or_else(|| env("GITHUB_REF_NAME").filter(|s| !s.is_empty()))
        .or_else(|| {
            env("GITHUB_REF").and_then(|r| r.strip_prefix("refs/heads/").map(str::to_string))
        })
        .or_else(|| git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let rev = sha.clone().unwrap_or_else(|| "HEAD".into());
    let parent = git(dir, &["rev-parse", &format!("{rev}^")]);
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
    }
}
