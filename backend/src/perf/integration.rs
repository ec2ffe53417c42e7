//! A project's GitHub integration: settings in, secrets sealed before they are stored,
//! and a view that never shows them again.

pub use perfwatch_core::integration::IntegrationView;
use perfwatch_github::{Client, Credentials};
use serde::Deserialize;

use crate::error::{Result, StoreError};
use crate::secrets::SealKey;
use crate::store::github::IntegrationRow;
use crate::time::now_ms;
use crate::Store;

/// What an admin sends (API `PUT /api/v1/projects/{slug}/github`, CLI `perfwatch github set`).
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// `owner/name`.
    pub repo: String,
    /// Required when creating; kept when absent on an update.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub app_id: Option<i64>,
    #[serde(default)]
    pub installation_id: Option<i64>,
    #[serde(default)]
    pub app_private_key: Option<String>,
    #[serde(default)]
    pub api_base: Option<String>,
    /// Where workers fetch the repository; defaults to `https://github.com/<repo>.git`.
    #[serde(default)]
    pub clone_url: Option<String>,
    #[serde(default)]
    pub master_branches: Option<Vec<String>>,
    /// GitHub logins allowed to command besides OWNER, MEMBER and COLLABORATOR.
    #[serde(default)]
    pub commanders: Option<Vec<String>>,
    /// The job definition used when a commit has no `.perfwatch.toml`.
    #[serde(default)]
    pub definition: Option<String>,
    #[serde(default)]
    pub concurrency: Option<i64>,
    #[serde(default)]
    pub reconcile_every_s: Option<i64>,
}

// By hand: webhook_secret, token, app_private_key must never reach a log line.
impl std::fmt::Debug for IntegrationInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationInput")
            .field("repo", &self.repo)
            .field(
                "webhook_secret",
                &perfwatch_core::redact::Redacted(&self.webhook_secret),
            )
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field(
                "app_private_key",
                &perfwatch_core::redact::Redacted(&self.app_private_key),
            )
            .field("api_base", &self.api_base)
            .field("clone_url", &self.clone_url)
            .field("master_branches", &self.master_branches)
            .field("commanders", &self.commanders)
            .field("definition", &self.definition)
            .field("concurrency", &self.concurrency)
            .field("reconcile_every_s", &self.reconcile_every_s)
            .finish()
    }
}

impl From<&IntegrationRow> for IntegrationView {
    fn from(r: &IntegrationRow) -> Self {
        Self {
            repo: r.repo.clone(),
            api_base: r.api_base.clone(),
            clone_url: r.clone_url.clone(),
            master_branches: r.master_branches.clone(),
            commanders: r.commanders.clone(),
            definition: r.definition.clone(),
            concurrency: r.concurrency,
            reconcile_every_s: r.reconcile_every_s,
            webhook_secret_set: !r.webhook_secret.is_empty(),
            reporting: if r.app_id.is_some() {
                "app".into()
            } else if r.token.is_some() {
                "token".into()
            } else {
                "none".into()
            },
            app_id: r.app_id,
            installation_id: r.installation_id,
        }
    }
}

fn check_repo(repo: &str) -> Result<String> {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.trim().split_once('/') {
        Some((o, n)) if ok(o) && ok(n) => Ok(repo.trim().to_ascii_lowercase()),
        _ => Err(StoreError::invalid("repo", "expected owner/name")),
    }
}

fn check_http(field: &str, url: &str) -> Result<()> {
    perfwatch_core::http_url::HttpUrl::parse(field, url)
        .map(drop)
        .map_err(|e| StoreError::Invalid(e.into()))
}

/// The integration's secrets, sealed: new ones given in `inp`, else the stored ones
/// (an empty token removes it).
fn sealed_secrets(
    key: &SealKey,
    inp: &IntegrationInput,
    old: Option<&IntegrationRow>,
) -> Result<(String, Option<String>, Option<String>)> {
    let webhook_secret = match (&inp.webhook_secret, old) {
        (Some(s), _) if s.len() >= 16 => key.seal(s),
        (Some(_), _) => {
            return Err(StoreError::invalid(
                "webhook_secret",
                "at least 16 characters",
            ));
        }
        (None, Some(o)) => o.webhook_secret.clone(),
        (None, None) => return Err(StoreError::invalid("webhook_secret", "required")),
    };
    let token = match &inp.token {
        Some(t) if t.trim().is_empty() => None,
        Some(t) => Some(key.seal(t.trim())),
        None => old.and_then(|o| o.token.clone()),
    };
    let app_key = match &inp.app_private_key {
        Some(k) if !k.contains("PRIVATE KEY") => {
            return Err(StoreError::invalid(
                "app_private_key",
                "expected a PEM private key",
            ));
        }
        Some(k) => Some(key.seal(k)),
        None => old.and_then(|o| o.app_key.clone()),
    };
    Ok((webhook_secret, token, app_key))
}

/// The branches whose commits are masters (baselines): given, else stored, else the
/// project's main branch.
fn master_branches(
    given: Option<Vec<String>>,
    old: Option<&IntegrationRow>,
    main_branch: &str,
) -> Result<Vec<String>> {
    let branches = given
        .or_else(|| old.map(|o| o.master_branches.clone()))
        .unwrap_or_else(|| vec![main_branch.to_string()]);
    if branches.is_empty() || branches.iter().any(|b| b.trim().is_empty()) {
        return Err(StoreError::invalid(
            "master_branches",
            "at least one branch name",
        ));
    }
    Ok(branches)
}

/// Creates or updates the integration of project `slug`; secrets are sealed.
pub async fn put(
    store: &Store,
    key: &SealKey,
    slug: &str,
    inp: IntegrationInput,
) -> Result<IntegrationView> {
    let project = store.project(slug).await?;
    let old = store.github_integration(project.id).await?;
    let repo = check_repo(&inp.repo)?;
    let (webhook_secret, token, app_key) = sealed_secrets(key, &inp, old.as_ref())?;
    let api_base = inp
        .api_base
        .or_else(|| old.as_ref().map(|o| o.api_base.clone()))
        .unwrap_or_else(|| "https://api.github.com".into());
    check_http("api_base", &api_base)?;
    let app_id = inp.app_id.or(old.as_ref().and_then(|o| o.app_id));
    let installation_id = inp
        .installation_id
        .or(old.as_ref().and_then(|o| o.installation_id));
    if app_id.is_some() && (installation_id.is_none() || app_key.is_none()) {
        return Err(StoreError::invalid(
            "installation_id",
            "a GitHub App needs app_id, installation_id and app_private_key",
        ));
    }
    let clone_url = inp
        .clone_url
        .or_else(|| old.as_ref().map(|o| o.clone_url.clone()))
        .unwrap_or_else(|| format!("https://github.com/{repo}.git"));
    let master_branches = master_branches(inp.master_branches, old.as_ref(), &project.main_branch)?;
    let definition = match inp.definition {
        Some(d) if d.trim().is_empty() => None,
        Some(d) => {
            perfwatch_jobs::definition::parse(&d)
                .map_err(|e| StoreError::invalid("definition", e.to_string()))?;
            Some(d)
        }
        None => old.as_ref().and_then(|o| o.definition.clone()),
    };
    let concurrency = inp
        .concurrency
        .or(old.as_ref().map(|o| o.concurrency))
        .unwrap_or(1);
    if !(1..=64).contains(&concurrency) {
        return Err(StoreError::invalid("concurrency", "1 to 64"));
    }
    let reconcile_every_s = inp
        .reconcile_every_s
        .or(old.as_ref().map(|o| o.reconcile_every_s))
        .unwrap_or(300);
    if reconcile_every_s < 0 {
        return Err(StoreError::invalid(
            "reconcile_every_s",
            "0 (off) or more seconds",
        ));
    }
    let row = IntegrationRow {
        project_id: project.id,
        repo,
        webhook_secret,
        token,
        app_id,
        installation_id,
        app_key,
        api_base,
        clone_url,
        master_branches,
        commanders: inp
            .commanders
            .or_else(|| old.as_ref().map(|o| o.commanders.clone()))
            .unwrap_or_default(),
        definition,
        concurrency,
        reconcile_every_s,
    };
    let now = now_ms();
    store.github_integration_put(&row, now).await?;
    if row.reconcile_every_s > 0 {
        // The first pass of a new (or re-timed) integration; a queued one is kept.
        let first =
            super::reconcile::reconcile_item(row.project_id, now + row.reconcile_every_s * 1000);
        store.perf_enqueue(&[first], now).await?;
    }
    Ok(IntegrationView::from(&row))
}

/// The integration of `slug`, without secrets.
pub async fn view(store: &Store, slug: &str) -> Result<Option<IntegrationView>> {
    let project = store.project(slug).await?;
    Ok(store
        .github_integration(project.id)
        .await?
        .as_ref()
        .map(IntegrationView::from))
}

/// A reporting client for an integration; `None` when it has no credentials.
pub fn client(key: &SealKey, row: &IntegrationRow) -> Result<Option<Client>> {
    let creds = match (row.app_id, row.installation_id, &row.app_key, &row.token) {
        (Some(app), Some(inst), Some(k), _) => Credentials::App {
            app_id: app as u64,
            installation_id: inst as u64,
            private_key_pem: key.open(k, "GitHub App private key")?,
        },
        (_, _, _, Some(t)) => Credentials::Token(key.open(t, "GitHub token")?),
        _ => return Ok(None),
    };
    Client::new(&row.api_base, creds)
        .map(Some)
        .map_err(|e| StoreError::invalid("api_base", e.to_string()))
}
