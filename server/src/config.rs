//! Server configuration (flags and environment).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub database_url: String,
    /// Where `pkg/` (the wasm bundle) lives.
    pub site_root: PathBuf,
    /// Base URL for links in API answers; `http://<addr>` when not set.
    pub public_url: Option<String>,
    /// Unknown project slugs in submissions create the project.
    pub auto_create_projects: bool,
    /// Reads (API and pages) need a token too.
    pub private_reads: bool,
    /// Maximum request body, bytes.
    pub body_limit: usize,
    /// Load the demo data set into an empty database at start.
    pub demo_if_empty: bool,
    /// Mark the session cookie `Secure` (also when the public URL is https).
    pub secure_cookies: bool,
    /// Webhook worker settings (tests shorten the backoff).
    pub notify: perfwatch_backend::notify::NotifyConfig,
    /// Run detection (and PR comparisons) inside the submitting request instead of in
    /// the background worker. The server default is the background; tests that read
    /// alerts right after a submission use inline.
    pub detect_inline: bool,
    /// Login throttling and the cap on concurrent password checks.
    pub login: perfwatch_backend::login_guard::LoginPolicy,
    /// Background workers start claiming jobs only after this delay. A test and
    /// operations knob (`--worker-start-delay-ms`): queued work waits in the database,
    /// e.g. to prove it survives a restart, or to let a fresh replica warm up.
    pub worker_start_delay: std::time::Duration,
}

impl ServerConfig {
    /// A configuration for tests and embedding: SQLite file at `database_url`, port 0.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            addr: "127.0.0.1:0".parse().expect("valid address"),
            database_url: database_url.to_string(),
            site_root: default_site_root(),
            public_url: None,
            auto_create_projects: false,
            private_reads: false,
            body_limit: perfwatch_core::limits::DEFAULT_BODY_LIMIT,
            demo_if_empty: false,
            secure_cookies: false,
            notify: Default::default(),
            detect_inline: true,
            login: Default::default(),
            worker_start_delay: std::time::Duration::ZERO,
        }
    }
}

/// `target/site` beside the workspace, unless `PERFWATCH_SITE_ROOT` says otherwise.
pub fn default_site_root() -> PathBuf {
    if let Ok(p) = std::env::var("PERFWATCH_SITE_ROOT") {
        return PathBuf::from(p);
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

/// `sqlite://data/perfwatch.db` unless `DATABASE_URL` is set.
pub fn default_database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/perfwatch.db".to_string())
}
