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
    /// The file holding the key that seals integration secrets (created on first start).
    pub secret_key_file: PathBuf,
    /// Runner slots of the embedded job worker (`--workers`; 0 turns it off).
    pub runner_slots: usize,
    /// Where runners keep repository mirrors and work trees.
    pub data_dir: PathBuf,
    /// How long a job's lease lasts without a heartbeat (`--lease-ms`).
    pub lease: std::time::Duration,
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
            secret_key_file: test_key_file(database_url),
            runner_slots: 0,
            data_dir: PathBuf::from("data/runner"),
            lease: std::time::Duration::from_secs(30),
        }
    }

    /// The sealing key: `PERFWATCH_SECRET_KEY` (64 hex digits), else the key file,
    /// created with a new random key on first start.
    pub fn seal_key(&self) -> anyhow::Result<perfwatch_backend::secrets::SealKey> {
        use perfwatch_backend::secrets::SealKey;
        if let Ok(hex) = std::env::var("PERFWATCH_SECRET_KEY") {
            return Ok(SealKey::from_hex(&hex)?);
        }
        if let Some(dir) = self.secret_key_file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        Ok(SealKey::load_or_create(&self.secret_key_file)?)
    }

    /// The job system's worker settings for this server (or `perfwatch worker`).
    pub fn perf_config(
        &self,
        key: perfwatch_backend::secrets::SealKey,
        public_url: String,
        metrics: std::sync::Arc<perfwatch_backend::observe::Metrics>,
        github_lane: bool,
    ) -> perfwatch_backend::perf::PerfConfig {
        perfwatch_backend::perf::PerfConfig {
            key,
            public_url,
            slots: self.runner_slots,
            github_lane,
            data_dir: self.data_dir.clone(),
            lease: self.lease,
            grace: std::time::Duration::from_secs(3),
            poll: std::time::Duration::from_millis(250),
            stop_poll: (self.lease / 3).max(std::time::Duration::from_millis(200)),
            metrics,
            start_delay: self.worker_start_delay,
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

/// The sealing key's file: beside a SQLite database (`<db>.key`), else
/// `data/secret.key`. Servers sharing a PostgreSQL database need the same key: give
/// them `PERFWATCH_SECRET_KEY` or one `--secret-key-file`.
pub fn default_key_file(database_url: &str) -> PathBuf {
    match database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let path = path.split('?').next().unwrap_or(path);
            PathBuf::from(format!("{path}.key"))
        }
        None => PathBuf::from("data/secret.key"),
    }
}

/// For tests and embedding: beside a SQLite file; for PostgreSQL a file in the temp
/// directory named after the database URL, so servers on one database share it.
fn test_key_file(database_url: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    if database_url.starts_with("sqlite://") {
        return default_key_file(database_url);
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    database_url.hash(&mut h);
    std::env::temp_dir().join(format!("perfwatch-{:016x}.key", h.finish()))
}
