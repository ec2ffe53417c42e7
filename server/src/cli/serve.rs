//! `perfwatch serve`: the dashboard, the API and the background workers in one process.

use clap::Args;

use crate::config::{default_site_root, ServerConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: super::DbArgs,
    #[arg(long, env = "PERFWATCH_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: std::net::SocketAddr,
    /// Directory holding `pkg/` (the browser bundle).
    #[arg(long, env = "PERFWATCH_SITE_ROOT")]
    pub site_root: Option<std::path::PathBuf>,
    /// Base URL used in links (e.g. https://perf.example.com).
    #[arg(long, env = "PERFWATCH_PUBLIC_URL", value_parser = super::public_url_arg)]
    pub public_url: Option<perfwatch_core::http_url::HttpUrl>,
    /// Create unknown projects on first submission instead of rejecting the run.
    #[arg(long, env = "PERFWATCH_AUTO_CREATE_PROJECTS")]
    pub auto_create_projects: bool,
    /// Require an API token for reads too.
    #[arg(long, env = "PERFWATCH_PRIVATE_READS")]
    pub private_reads: bool,
    /// Do not load the demo data into an empty database.
    #[arg(long)]
    pub no_demo: bool,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = perfwatch_core::limits::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Mark the session cookie Secure (implied when --public-url is https).
    #[arg(long, env = "PERFWATCH_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Run change-point detection inside each submission request instead of in the
    /// background worker (slower submissions; alerts exist when the answer arrives).
    #[arg(long, env = "PERFWATCH_DETECT_INLINE")]
    pub detect_inline: bool,
    /// Start the background workers (detection, comparisons, webhooks) only after
    /// this many milliseconds; queued work waits in the database (test/ops knob).
    #[arg(long, env = "PERFWATCH_WORKER_START_DELAY_MS", default_value_t = 0)]
    pub worker_start_delay_ms: u64,
    #[command(flatten)]
    pub runner: super::jobs::RunnerArgs,
    /// Runner slots of the embedded job worker (0: this server runs no jobs;
    /// start `perfwatch worker` processes instead).
    #[arg(long, env = "PERFWATCH_WORKERS", default_value_t = 1)]
    pub workers: usize,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    super::ensure_sqlite_dir(&args.db.database_url);
    let mut config = ServerConfig {
        addr: args.addr,
        database_url: args.db.database_url.clone(),
        site_root: args.site_root.unwrap_or_else(default_site_root),
        public_url: args
            .public_url
            .map(perfwatch_core::http_url::HttpUrl::into_string),
        auto_create_projects: args.auto_create_projects,
        private_reads: args.private_reads,
        body_limit: args.body_limit,
        demo_if_empty: !args.no_demo,
        secure_cookies: args.secure_cookies,
        notify: Default::default(),
        detect_inline: args.detect_inline,
        worker_start_delay: std::time::Duration::from_millis(args.worker_start_delay_ms),
        login: Default::default(),
        ..ServerConfig::for_database(&args.db.database_url)
    };
    args.runner.apply(&mut config);
    config.runner_slots = args.workers;
    crate::allocator::spawn_trimmer();
    crate::serve(config, |bound| {
        println!("perfwatch listening on http://{bound}");
    })
    .await
}
