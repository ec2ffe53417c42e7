//! Command-line interface: the subcommands of `perfwatch`.

pub mod annotate;
pub mod baseline_check;
pub mod compare;
pub mod compare_offline;
pub mod detect;
pub mod git;
pub mod holidays;
pub mod import;
pub mod ingest;
pub mod jobs;
pub mod load;
pub mod load_calibrate;
pub mod load_demo;
pub mod load_rules;
pub mod metrics;
pub mod parse;
pub mod run;
pub mod submit;
pub mod user;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "perfwatch",
    version,
    about = "Track benchmark and load-test results commit by commit, and catch regressions"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// `sqlite://path` (default `sqlite://data/perfwatch.db`) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/perfwatch.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the dashboard and API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "PERFWATCH_ADDR", default_value = "127.0.0.1:3000")]
        addr: std::net::SocketAddr,
        /// Directory holding `pkg/` (the browser bundle).
        #[arg(long, env = "PERFWATCH_SITE_ROOT")]
        site_root: Option<std::path::PathBuf>,
        /// Base URL used in links (e.g. https://perf.example.com).
        #[arg(long, env = "PERFWATCH_PUBLIC_URL")]
        public_url: Option<String>,
        /// Create unknown projects on first submission instead of rejecting the run.
        #[arg(long, env = "PERFWATCH_AUTO_CREATE_PROJECTS")]
        auto_create_projects: bool,
        /// Require an API token for reads too.
        #[arg(long, env = "PERFWATCH_PRIVATE_READS")]
        private_reads: bool,
        /// Do not load the demo data into an empty database.
        #[arg(long)]
        no_demo: bool,
        /// Largest accepted request body in bytes.
        #[arg(long, default_value_t = perfwatch_core::limits::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
        /// Mark the session cookie Secure (implied when --public-url is https).
        #[arg(long, env = "PERFWATCH_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Run change-point detection inside each submission request instead of in the
        /// background worker (slower submissions; alerts exist when the answer arrives).
        #[arg(long, env = "PERFWATCH_DETECT_INLINE")]
        detect_inline: bool,
        /// Start the background workers (detection, comparisons, webhooks) only after
        /// this many milliseconds; queued work waits in the database (test/ops knob).
        #[arg(long, env = "PERFWATCH_WORKER_START_DELAY_MS", default_value_t = 0)]
        worker_start_delay_ms: u64,
        #[command(flatten)]
        runner: jobs::RunnerArgs,
        /// Runner slots of the embedded job worker (0: this server runs no jobs;
        /// start `perfwatch worker` processes instead).
        #[arg(long, env = "PERFWATCH_WORKERS", default_value_t = 1)]
        workers: usize,
    },
    /// Run performance jobs from the queue (docs/jobs.md): any number of processes,
    /// on one host with SQLite or across hosts with PostgreSQL.
    Worker(jobs::WorkerArgs),
    /// A project's GitHub integration (docs/jobs.md).
    Github(jobs::GithubArgs),
    /// Performance jobs: queue one for a commit, list them.
    Job(jobs::JobArgs),
    /// Metric sources and window collection (docs/metrics.md).
    Metrics(metrics::MetricsArgs),
    /// A project's holiday calendar (`set --project P 2026-12-25:Christmas`, `list`).
    Holidays(holidays::HolidaysArgs),
    /// Mark a release, deploy, infrastructure change or note (`deploy --version v2.0`).
    Annotate(annotate::AnnotateArgs),
    /// Load the seeded demo data set (three projects) into the database.
    Demo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(flatten)]
        db: DbArgs,
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage users and their roles.
    User(user::UserArgs),
    /// Manage projects.
    Project {
        #[command(flatten)]
        db: DbArgs,
        #[command(subcommand)]
        action: ProjectAction,
    },
    /// Submit result files (any supported harness format, detected per file) as one
    /// run, filling commit details from git and CI variables.
    Submit(submit::SubmitArgs),
    /// Show what `submit` would send for these files (formats, series, units, sample
    /// counts) without a server.
    Parse(parse::ParseArgs),
    /// Run a benchmark command, stream its output, parse it and submit one run.
    Run(run::RunArgs),
    /// Backfill history: submit a directory of old result files listed in a manifest.
    Import(import::ImportArgs),
    /// Change points of series in a CSV or JSON file (offline), or one detection pass
    /// over a project in the database (`--project SLUG`).
    Detect(detect::DetectArgs),
    /// Compare two points in history (benchstat-like table) through a server's API, or
    /// two result files/directories offline.
    Compare(compare::CompareArgs),
    /// Run a load scenario (docs/load.md) and write or submit the results as a run.
    Load(Box<load::LoadArgs>),
    /// A small identities/groups service to load-test (examples/groups.toml).
    DemoService(load_demo::DemoServiceArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; the secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        /// Limit the token to one project.
        #[arg(long)]
        project: Option<String>,
        /// What the token may do: comma-separated ingest, triage, admin.
        #[arg(long, default_value = "ingest")]
        scope: String,
        /// The token stops working after this many days.
        #[arg(long, conflicts_with = "expires_at")]
        expires_in_days: Option<i64>,
        /// The token stops working at this time (RFC 3339 or ms since the epoch).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum ProjectAction {
    /// Create a project.
    Add {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "main")]
        main_branch: String,
        #[arg(long)]
        repo_url: Option<String>,
    },
    /// List projects.
    List,
}
