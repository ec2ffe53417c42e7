//! A small GitHub REST client: the calls perfwatch makes to report on commits and
//! pull requests, with errors classified for the outbox that retries them.

use std::fmt;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use perfwatch_core::http_url::HttpUrl;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::{Method, Url};
use serde_json::json;

use crate::api_types::{branch_sha, id_of, CheckRunReq, IssueCommentInfo, PullInfo, StatusReq};
use crate::app_auth::AppAuth;
use crate::client_error::ClientError;

/// Whole-request timeout: a report that hangs is better retried by the outbox.
const TIMEOUT: Duration = Duration::from_secs(10);
/// GitHub's largest page.
const PER_PAGE: &str = "100";
/// Path segment encoding: everything but unreserved characters, `/` included, so a
/// branch `feature/x` stays one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How the client authenticates.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access or other token, sent as `Authorization: Bearer <token>`.
    Token(String),
    /// A GitHub App installation: installation tokens are minted from the private key.
    App {
        /// The App's id.
        app_id: u64,
        /// The installation on the repository's owner.
        installation_id: u64,
        /// The App's RSA private key, PEM.
        private_key_pem: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Credentials::Token(<redacted>)"),
            Credentials::App {
                app_id,
                installation_id,
                ..
            } => f
                .debug_struct("Credentials::App")
                .field("app_id", app_id)
                .field("installation_id", installation_id)
                .finish_non_exhaustive(),
        }
    }
}

pub(crate) enum Auth {
    Token(HeaderValue),
    App(AppAuth),
}

/// The GitHub REST client. Cheap to share behind an `Arc`; one per integration.
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) auth: Auth,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.auth {
            Auth::Token(_) => "token".to_string(),
            Auth::App(app) => format!("{app:?}"),
        };
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("auth", &kind)
            .finish()
    }
}

pub(crate) fn bearer(token: &str) -> Result<HeaderValue, ClientError> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ClientError::Invalid("token contains characters not allowed in a header".into())
    })?;
    // Keeps the value out of hyper's and reqwest's debug output.
    v.set_sensitive(true);
    Ok(v)
}

fn check_repo(repo: &str) -> Result<&str, ClientError> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match repo.split_once('/') {
        Some((owner, name)) if ok_part(owner) && ok_part(name) => Ok(repo),
        _ => Err(ClientError::Invalid(format!(
            "repository must be owner/name, got {repo:?}"
        ))),
    }
}

fn check_sha(sha: &str) -> Result<&str, ClientError> {
    if !sha.is_empty() && sha.len() <= 64 && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(ClientError::Invalid(format!("not a commit SHA: {sha:?}")))
    }
}

/// GitHub answers these with a bare 422; refusing them here, before a request is
/// spent, tells the caller exactly which field was wrong.
fn check_check_run(check: &CheckRunReq) -> Result<(), ClientError> {
    if !["queued", "in_progress", "completed"].contains(&check.status.as_str()) {
        return Err(ClientError::Invalid(format!(
            "unknown check run status {:?}",
            check.status
        )));
    }
    if check.status == "completed" && check.conclusion.is_none() {
        return Err(ClientError::Invalid(
            "a completed check run needs a conclusion".into(),
        ));
    }
    Ok(())
}

impl Client {
    /// A client for `api_base` (`https://api.github.com`, a GitHub Enterprise
    /// `https://host/api/v3`, or a test server's `http://127.0.0.1:PORT`).
    pub fn new(api_base: &str, creds: Credentials) -> Result<Client, ClientError> {
        // Trimmed first: a base with a path (`…/api/v3/`) must not end in `/`, as
        // request paths are appended to it.
        let base = HttpUrl::parse("api_base", api_base.trim_end_matches('/'))
            .map_err(|e| ClientError::Invalid(format!("{}: {}", e.path, e.reason)))?
            .parsed()
            .clone();
        let auth = match creds {
            Credentials::Token(token) => Auth::Token(bearer(&token)?),
            Credentials::App {
                app_id,
                installation_id,
                private_key_pem,
            } => Auth::App(AppAuth::new(app_id, installation_id, &private_key_pem)?),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        let http = reqwest::Client::builder()
            .user_agent("perfwatch")
            .default_headers(headers)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| ClientError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { http, base, auth })
    }

    /// Sets a commit status (`POST /repos/{repo}/statuses/{sha}`).
    pub async fn create_status(
        &self,
        repo: &str,
        sha: &str,
        status: &StatusReq,
    ) -> Result<(), ClientError> {
        if !["pending", "success", "failure", "error"].contains(&status.state.as_str()) {
            return Err(ClientError::Invalid(format!(
                "unknown status state {:?}",
                status.state
            )));
        }
        let url = self.url(
            &format!("/repos/{}/statuses/{}", check_repo(repo)?, check_sha(sha)?),
            &[],
        )?;
        self.call(Method::POST, url, Some(&status.to_json()))
            .await
            .map(drop)
    }

    /// Creates a check run; its id.
    pub async fn create_check_run(
        &self,
        repo: &str,
        check: &CheckRunReq,
    ) -> Result<u64, ClientError> {
        check_sha(&check.head_sha)?;
        check_check_run(check)?;
        let url = self.url(&format!("/repos/{}/check-runs", check_repo(repo)?), &[])?;
        let (_, v) = self
            .call(Method::POST, url, Some(&check.to_json(true)))
            .await?;
        id_of("check run", &v)
    }

    /// Updates a check run (`PATCH /repos/{repo}/check-runs/{id}`).
    pub async fn update_check_run(
        &self,
        repo: &str,
        id: u64,
        check: &CheckRunReq,
    ) -> Result<(), ClientError> {
        check_check_run(check)?;
        let url = self.url(
            &format!("/repos/{}/check-runs/{id}", check_repo(repo)?),
            &[],
        )?;
        self.call(Method::PATCH, url, Some(&check.to_json(false)))
            .await
            .map(drop)
    }

    /// Every comment of an issue or pull request, oldest first.
    pub async fn list_issue_comments(
        &self,
        repo: &str,
        number: u64,
    ) -> Result<Vec<IssueCommentInfo>, ClientError> {
        let url = self.url(
            &format!("/repos/{}/issues/{number}/comments", check_repo(repo)?),
            &[("per_page", PER_PAGE)],
        )?;
        let items = self.paginate(url, "issue comments").await?;
        items.iter().map(IssueCommentInfo::from_github).collect()
    }

    /// Posts a comment; its id.
    pub async fn create_issue_comment(
        &self,
        repo: &str,
        number: u64,
        body: &str,
    ) -> Result<u64, ClientError> {
        let url = self.url(
            &format!("/repos/{}/issues/{number}/comments", check_repo(repo)?),
            &[],
        )?;
        let (_, v) = self
            .call(Method::POST, url, Some(&json!({ "body": body })))
            .await?;
        id_of("issue comment", &v)
    }

    /// Replaces a comment's body (edits notify nobody, unlike new comments).
    pub async fn update_issue_comment(
        &self,
        repo: &str,
        comment_id: u64,
        body: &str,
    ) -> Result<(), ClientError> {
        let url = self.url(
            &format!("/repos/{}/issues/comments/{comment_id}", check_repo(repo)?),
            &[],
        )?;
        self.call(Method::PATCH, url, Some(&json!({ "body": body })))
            .await
            .map(drop)
    }

    /// One pull request.
    pub async fn get_pull(&self, repo: &str, number: u64) -> Result<PullInfo, ClientError> {
        let url = self.url(&format!("/repos/{}/pulls/{number}", check_repo(repo)?), &[])?;
        let (_, v) = self.call(Method::GET, url, None).await?;
        PullInfo::from_github(&v)
    }

    /// Every open pull request.
    pub async fn list_open_pulls(&self, repo: &str) -> Result<Vec<PullInfo>, ClientError> {
        let url = self.url(
            &format!("/repos/{}/pulls", check_repo(repo)?),
            &[("state", "open"), ("per_page", PER_PAGE)],
        )?;
        let items = self.paginate(url, "pull requests").await?;
        items.iter().map(PullInfo::from_github).collect()
    }

    /// The head commit SHA of a branch.
    pub async fn branch_head(&self, repo: &str, branch: &str) -> Result<String, ClientError> {
        // "." and ".." would be resolved as dot segments by the URL parser even when
        // encoded; git forbids them as branch names anyway.
        if branch.is_empty() || branch == "." || branch == ".." {
            return Err(ClientError::Invalid(format!(
                "not a branch name: {branch:?}"
            )));
        }
        let encoded = utf8_percent_encode(branch, SEGMENT);
        let url = self.url(
            &format!("/repos/{}/branches/{encoded}", check_repo(repo)?),
            &[],
        )?;
        let (_, v) = self.call(Method::GET, url, None).await?;
        branch_sha(&v)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
