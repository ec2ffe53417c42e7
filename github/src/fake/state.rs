//! The fake GitHub's state: what it was told (branches, pulls), what clients wrote
//! (statuses, check runs, comments), the recorded calls and the injected faults.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::api_types::{IssueCommentInfo, PullInfo};

/// One request the fake received, recorded before any fault injection or auth check.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// HTTP method, upper case.
    pub method: String,
    /// Path, still percent-encoded as sent.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// JSON body; Null when empty or not JSON.
    pub body: Value,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// All request headers (names lower-case), to check what the client sends.
    pub headers: Vec<(String, String)>,
}

impl Call {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The GitHub App the fake verifies JWTs for.
#[derive(Debug, Clone)]
pub(crate) struct AppConfig {
    pub app_id: u64,
    pub public_key_pem: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct St {
    /// `http://127.0.0.1:PORT`, for absolute `Link` URLs.
    pub base_url: String,
    pub calls: Vec<Call>,
    pub next_id: u64,
    /// (repo, issue number) → comments, oldest first.
    pub comments: BTreeMap<(String, u64), Vec<IssueCommentInfo>>,
    /// (repo, sha) → statuses as posted.
    pub statuses: HashMap<(String, String), Vec<Value>>,
    /// repo → check runs (with `id`), current state after PATCHes.
    pub check_runs: HashMap<String, Vec<Value>>,
    pub pulls: HashMap<String, BTreeMap<u64, PullInfo>>,
    pub branches: HashMap<(String, String), String>,
    /// (calls left, status) to fail with.
    pub fail_next: (usize, u16),
    pub rate_limit_next: Option<u64>,
    pub required_token: Option<String>,
    pub app: Option<AppConfig>,
    pub issued_tokens: Vec<String>,
    pub token_ttl_secs: i64,
    /// Login of the comments the authenticated client writes.
    pub bot_login: String,
}

impl St {
    pub(crate) fn new() -> St {
        St {
            next_id: 1000,
            token_ttl_secs: 3600,
            bot_login: "perfwatch[bot]".to_string(),
            ..St::default()
        }
    }

    pub(crate) fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn add_comment(&mut self, repo: &str, number: u64, user: &str, body: &str) -> u64 {
        let id = self.new_id();
        self.comments
            .entry((repo.to_lowercase(), number))
            .or_default()
            .push(IssueCommentInfo {
                id,
                body: body.to_string(),
                user: user.to_string(),
            });
        id
    }

    /// Edits a comment of `repo` in place; false when there is none with that id.
    pub(crate) fn edit_comment(&mut self, repo: &str, id: u64, body: &str) -> bool {
        let repo = repo.to_lowercase();
        let found = self
            .comments
            .iter_mut()
            .filter(|((r, _), _)| *r == repo)
            .flat_map(|(_, list)| list.iter_mut())
            .find(|c| c.id == id);
        match found {
            Some(c) => {
                c.body = body.to_string();
                true
            }
            None => false,
        }
    }
}

/// The page of `items` a `?per_page=&page=` query asks for (GitHub: default 30, at
/// most 100, pages from 1), and whether a further page exists.
pub(crate) fn page<T: Clone>(items: &[T], per_page: usize, page: usize) -> (Vec<T>, usize) {
    let per_page = per_page.clamp(1, 100);
    let pages = items.len().div_ceil(per_page).max(1);
    let start = page.saturating_sub(1).saturating_mul(per_page);
    let chunk = items.iter().skip(start).take(per_page).cloned().collect();
    (chunk, pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        let items: Vec<u32> = (0..150).collect();
        assert_eq!(page(&items, 100, 1).0.len(), 100);
        assert_eq!(page(&items, 100, 2), ((100..150).collect(), 2));
        assert_eq!(page(&items, 100, 3).0.len(), 0);
        assert_eq!(page(&items, 0, 1).0.len(), 1);
        assert_eq!(page(&items, 1000, 1).0.len(), 100);
        assert_eq!(page(&items, 30, usize::MAX).0.len(), 0);
        assert_eq!(page::<u32>(&[], 30, 1), (vec![], 1));
    }
}
