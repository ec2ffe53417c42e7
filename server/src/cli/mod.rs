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
pub mod project;
pub mod run;
pub mod serve;
pub mod submit;
pub mod token;
pub mod user;

use clap::{Args, Parser, Subcommand};
use perfwatch_core::http_url::HttpUrl;

pub use project::ProjectAction;
pub use token::TokenAction;

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

/// `--public-url` (links in answers and reports) through the one http(s) URL check;
/// clap's error names the flag and the reason.
pub(crate) fn public_url_arg(text: &str) -> Result<HttpUrl, String> {
    HttpUrl::parse("--public-url", text).map_err(|e| e.reason)
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
    Serve(Box<serve::ServeArgs>),
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
    Token(token::TokenArgs),
    /// Manage users and their roles.
    User(user::UserArgs),
    /// Manage projects.
    Project(project::ProjectArgs),
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

/// Creates the directory of a `sqlite://` database file, so a first start on a fresh
/// machine works without a manual `mkdir`.
pub fn ensure_sqlite_dir(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
}

/// Opens the store of a command that works on the database directly.
pub async fn open_store(url: &str) -> anyhow::Result<perfwatch_backend::Store> {
    ensure_sqlite_dir(url);
    Ok(perfwatch_backend::Store::connect(url).await?)
}
