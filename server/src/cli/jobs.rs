//! `perfwatch worker`, `perfwatch github set|show`, `perfwatch job run|list`: the job
//! system from the command line (docs/jobs.md). `worker` claims `perf.run` items from
//! the database directly; `github` and `job` work on the database too, as the other
//! admin commands do.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use perfwatch_backend::perf::enqueue::{manual, ManualRequest};
use perfwatch_backend::perf::{integration, IntegrationInput};
use perfwatch_backend::Store;
use tokio_util::sync::CancellationToken;

use super::DbArgs;
use crate::config::{default_key_file, ServerConfig};

/// Settings shared by `serve` and `worker`.
#[derive(Debug, Args, Clone)]
pub struct RunnerArgs {
    /// Where runners keep repository mirrors and work trees.
    #[arg(long, env = "PERFWATCH_DATA_DIR", default_value = "data/runner")]
    pub data_dir: PathBuf,
    /// The file with the key sealing integration secrets (default: beside a SQLite
    /// database, else data/secret.key; or set PERFWATCH_SECRET_KEY).
    #[arg(long, env = "PERFWATCH_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// How long a claimed job is held without a heartbeat, ms.
    #[arg(long, env = "PERFWATCH_LEASE_MS", default_value_t = 30_000)]
    pub lease_ms: u64,
}

impl RunnerArgs {
    pub fn apply(&self, config: &mut ServerConfig) {
        config.data_dir = self.data_dir.clone();
        config.secret_key_file = self
            .secret_key_file
            .clone()
            .unwrap_or_else(|| default_key_file(&config.database_url));
        config.lease = Duration::from_millis(self.lease_ms.max(500));
    }
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Jobs this process runs at once.
    #[arg(long, default_value_t = 1)]
    pub slots: usize,
    /// Base URL of links in reports.
    #[arg(
        long,
        env = "PERFWATCH_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000",
        value_parser = super::public_url_arg
    )]
    pub public_url: perfwatch_core::http_url::HttpUrl,
}

/// Runs jobs until SIGTERM or Ctrl-C; the job in hand gets a short grace period, then
/// its lease is given back so another worker takes it at once.
pub async fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let mut config = ServerConfig::for_database(&args.db.database_url);
    args.runner.apply(&mut config);
    config.runner_slots = args.slots.max(1);
    let store = Store::connect(&config.database_url).await?;
    let cfg = config.perf_config(
        config.seal_key()?,
        args.public_url.into_string(),
        Default::default(),
        false,
    );
    let stop = CancellationToken::new();
    tokio::spawn(crate::shutdown::on_signal(stop.clone()));
    let lanes = perfwatch_backend::perf::spawn_perf_workers(&store, &cfg, stop.clone()).await;
    println!("perfwatch worker running {} slot(s)", cfg.slots);
    for l in lanes {
        let _ = l.await;
    }
    store.close().await;
    Ok(())
}

#[derive(Debug, Args)]
pub struct GithubArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub runner: RunnerArgs,
    #[command(subcommand)]
    pub action: GithubAction,
}

#[derive(Debug, Subcommand)]
pub enum GithubAction {
    /// Link a project to a repository or change its settings; secrets come from the
    /// environment (PERFWATCH_WEBHOOK_SECRET, PERFWATCH_GITHUB_TOKEN,
    /// PERFWATCH_GITHUB_APP_KEY_FILE), never from the command line.
    Set {
        project: String,
        #[arg(long)]
        repo: String,
        #[arg(long)]
        api_base: Option<String>,
        #[arg(long)]
        clone_url: Option<String>,
        /// Comma-separated.
        #[arg(long)]
        master_branches: Option<String>,
        /// GitHub logins allowed to command besides maintainers, comma-separated.
        #[arg(long)]
        commanders: Option<String>,
        #[arg(long)]
        app_id: Option<i64>,
        #[arg(long)]
        installation_id: Option<i64>,
        /// The fallback job definition file (.perfwatch.toml).
        #[arg(long)]
        definition: Option<PathBuf>,
        #[arg(long)]
        reconcile_every_s: Option<i64>,
    },
    /// Show the settings (no secrets).
    Show { project: String },
}

fn list(s: &Option<String>) -> Option<Vec<String>> {
    s.as_ref().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

pub async fn github(args: GithubArgs) -> anyhow::Result<()> {
    let mut config = ServerConfig::for_database(&args.db.database_url);
    args.runner.apply(&mut config);
    let store = Store::connect(&config.database_url).await?;
    let key = config.seal_key()?;
    match args.action {
        GithubAction::Show { project } => {
            let v = integration::view(&store, &project).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        GithubAction::Set {
            project,
            repo,
            api_base,
            clone_url,
            master_branches,
            commanders,
            app_id,
            installation_id,
            definition,
            reconcile_every_s,
        } => {
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            let app_private_key = match env("PERFWATCH_GITHUB_APP_KEY_FILE") {
                Some(p) => Some(std::fs::read_to_string(p)?),
                None => None,
            };
            let definition = definition.map(std::fs::read_to_string).transpose()?;
            let inp = IntegrationInput {
                repo,
                webhook_secret: env("PERFWATCH_WEBHOOK_SECRET"),
                token: env("PERFWATCH_GITHUB_TOKEN"),
                app_id,
                installation_id,
                app_private_key,
                api_base,
                clone_url,
                master_branches: list(&master_branches),
                commanders: list(&commanders),
                definition,
                concurrency: None,
                reconcile_every_s,
            };
            let v = integration::put(&store, &key, &project, inp).await?;
            store
                .audit_after(perfwatch_backend::audit::Audit::local().entry(
                    "github.integration",
                    format!("projects/{project}/github"),
                    serde_json::json!({ "via": "cli" }),
                ))
                .await;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    }
    store.close().await;
    Ok(())
}

#[derive(Debug, Args)]
pub struct JobArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub action: JobAction,
}

#[derive(Debug, Subcommand)]
pub enum JobAction {
    /// Queue a job for a commit (as a PR's head with --pr).
    Run {
        project: String,
        #[arg(long)]
        commit: String,
        #[arg(long)]
        pr: Option<i64>,
        #[arg(long)]
        branch: Option<String>,
        /// Compare with this commit (PR jobs default to the merge-base).
        #[arg(long)]
        base: Option<String>,
        #[arg(long)]
        repeats: Option<i64>,
    },
    /// List a project's jobs, newest first.
    List { project: String },
}

pub async fn job(args: JobArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.db.database_url).await?;
    match args.action {
        JobAction::Run {
            project,
            commit,
            pr,
            branch,
            base,
            repeats,
        } => {
            let req = ManualRequest {
                commit,
                pr,
                branch,
                base,
                repeats,
            };
            let who = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            let id = manual(&store, &project, &req, &who).await?;
            store
                .audit_after(perfwatch_backend::audit::Audit::new(who, None).entry(
                    "job.enqueue",
                    format!("projects/{project}/jobs"),
                    serde_json::json!({ "id": id, "commit": req.commit }),
                ))
                .await;
            println!("queued job {id}");
        }
        JobAction::List { project } => {
            let p = store.project(&project).await?;
            for j in store.perf_jobs(Some(p.id), None, &[], 50).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    j.id,
                    j.purpose.as_str(),
                    j.state.as_str(),
                    &j.sha[..j.sha.len().min(10)],
                    j.pr_number.map(|n| format!("#{n}")).unwrap_or_default(),
                    j.verdict.unwrap_or_default()
                );
            }
        }
    }
    store.close().await;
    Ok(())
}
