//! Choices of the compare page's picker, so nobody has to type refs: recent branches,
//! pull requests ("this PR vs its base" in one click) and releases. Pure: the
//! recognition of PR branch names and the compare query of each choice.

use serde::{Deserialize, Serialize};

use crate::comparison::{CompareSpec, SideSpec};

/// A branch with its newest run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchChoice {
    pub name: String,
    pub last_run_at: i64,
    pub runs: i64,
    /// Runs the validity gate rejected; a comparison leaves them out.
    #[serde(default)]
    pub invalid_runs: i64,
    /// One of their reasons, readable.
    #[serde(default)]
    pub invalid_reason: Option<String>,
    /// The compare query: main at the merge-base vs this branch.
    pub query: String,
}

/// A pull request and the one-click comparison with its base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrChoice {
    pub number: i64,
    /// The branch its runs are stored on, when known.
    pub branch: Option<String>,
    /// Its newest job's state (`queued`, `running`, `processed`, …), when it has jobs.
    pub state: Option<String>,
    pub at: i64,
    /// The compare query: the PR's base (its recorded base commit, else main at the
    /// merge-base) vs its head.
    pub query: String,
}

/// A release and its comparison with the release before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseChoice {
    pub name: String,
    pub previous: Option<String>,
    pub at: i64,
    /// The compare query against the previous release, when there is one.
    pub query: Option<String>,
}

/// The PR number of a branch named like a pull-request ref: `pull/12`,
/// `pull/12/head`, `refs/pull/12/head`, `pr-12`, `pr/12`, `PR-12`.
pub fn pr_number_of_branch(name: &str) -> Option<i64> {
    let n = name.strip_prefix("refs/").unwrap_or(name);
    let rest = n
        .strip_prefix("pull/")
        .or_else(|| n.strip_prefix("pr/"))
        .or_else(|| n.strip_prefix("pr-"))
        .or_else(|| n.strip_prefix("PR-"))?;
    let digits = rest
        .strip_suffix("/head")
        .or_else(|| rest.strip_suffix("/merge"))
        .unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// "This PR vs its base": the head is the PR's branch when its runs are stored on
/// one, else its head commit; the base is the recorded base commit, else left to
/// the compare page's default (main at the merge-base).
pub fn pr_vs_base(
    branch: Option<&str>,
    head_sha: Option<&str>,
    base_sha: Option<&str>,
) -> Option<String> {
    let head = match (branch, head_sha) {
        (Some(b), _) => SideSpec::Branch(b.to_string()),
        (None, Some(s)) => SideSpec::Commit(s.to_string()),
        (None, None) => return None,
    };
    Some(
        CompareSpec {
            base: base_sha.map(|s| SideSpec::Commit(s.to_string())),
            head: Some(head),
            ..Default::default()
        }
        .to_query_string(),
    )
}

/// Main at the merge-base vs a branch.
pub fn branch_vs_main(branch: &str) -> String {
    CompareSpec {
        head: Some(SideSpec::Branch(branch.to_string())),
        ..Default::default()
    }
    .to_query_string()
}

/// Previous release vs this one.
pub fn release_vs_previous(previous: &str, release: &str) -> String {
    CompareSpec {
        base: Some(SideSpec::Release(previous.to_string())),
        head: Some(SideSpec::Release(release.to_string())),
        ..Default::default()
    }
    .to_query_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_branch_names() {
        for (name, n) in [
            ("pull/12", Some(12)),
            ("pull/12/head", Some(12)),
            ("refs/pull/7/merge", Some(7)),
            ("pr-3", Some(3)),
            ("pr/45", Some(45)),
            ("PR-9", Some(9)),
            ("feature/pooling", None),
            ("pr-", None),
            ("pull/x1", None),
            ("prefix", None),
            ("pr-0", None),
        ] {
            assert_eq!(pr_number_of_branch(name), n, "{name}");
        }
    }

    #[test]
    fn pr_vs_base_queries() {
        let q = pr_vs_base(Some("feature/x"), Some("bbbb1234"), Some("aaaa1234")).unwrap();
        let s = CompareSpec::from_query_string(&q).unwrap();
        assert_eq!(s.base, Some(SideSpec::Commit("aaaa1234".into())));
        assert_eq!(s.head, Some(SideSpec::Branch("feature/x".into())));
        let q = pr_vs_base(None, Some("bbbb1234"), None).unwrap();
        let s = CompareSpec::from_query_string(&q).unwrap();
        assert_eq!(
            (s.base, s.head),
            (None, Some(SideSpec::Commit("bbbb1234".into())))
        );
        assert_eq!(pr_vs_base(None, None, Some("aaaa1234")), None);
    }

    #[test]
    fn branch_and_release_queries_round_trip() {
        let s = CompareSpec::from_query_string(&branch_vs_main("feature/a b")).unwrap();
        assert_eq!(s.head, Some(SideSpec::Branch("feature/a b".into())));
        let s = CompareSpec::from_query_string(&release_vs_previous("v1", "v2")).unwrap();
        assert_eq!(s.base, Some(SideSpec::Release("v1".into())));
        assert_eq!(s.head, Some(SideSpec::Release("v2".into())));
    }
}
