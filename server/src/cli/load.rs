//! `perfwatch load SCENARIO.toml`: runs a load scenario with perfwatch-loadgen, prints
//! the summary, writes the native run (`--out`) and/or submits it (`--submit`) with the
//! same git and CI discovery as `perfwatch submit`. Exit codes: 0 fine, 1 regression
//! under `--fail-on`, 3 the run ended early (a crashed driver), 99 a threshold breached.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use perfwatch_loadgen::engine::{self, Finished, Options};
use perfwatch_loadgen::results::to_run;
use perfwatch_loadgen::scenario::{self, Scenario};
use perfwatch_loadgen::summary::table;
use perfwatch_parsers::Parsed;
use serde_json::json;

use super::baseline_check::print_baseline;
use super::git::discover;
use super::ingest::{build_run, describe, post_run, FailOn, Merged, RunFields, ServerArgs};

/// Exit code when a threshold is breached (as k6 does).
pub const EXIT_THRESHOLD: i32 = 99;
/// Exit code when the run ended early.
pub const EXIT_ABORTED: i32 = 3;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    #[command(flatten)]
    pub run: LoadRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Step the rate up until an SLO breaks; report the knee and a fair rate.
    Calibrate(super::load_calibrate::CalibrateArgs),
}

#[derive(Args, Clone)]
pub struct LoadRunArgs {
    /// The scenario file (TOML; see docs/load.md).
    pub scenario: Option<PathBuf>,
    /// Write the native run here (JSON).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Submit the run to the server.
    #[arg(long)]
    pub submit: bool,
    /// perfwatch server URL.
    #[arg(long, env = "PERFWATCH_URL", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// API token (or PERFWATCH_TOKEN); needed with --submit.
    #[arg(long, env = "PERFWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub fields: RunFields,
    /// After submitting, mark the run's commit as this release.
    #[arg(long)]
    pub release: Option<String>,
    /// Exit with status 1 when the run regresses against its baseline on main.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// No live progress line (CI).
    #[arg(long)]
    pub quiet: bool,
}

// By hand: token must never reach a log line.
impl std::fmt::Debug for LoadRunArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadRunArgs")
            .field("scenario", &self.scenario)
            .field("out", &self.out)
            .field("submit", &self.submit)
            .field("server", &self.server)
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .field("fields", &self.fields)
            .field("release", &self.release)
            .field("fail_on", &self.fail_on)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// Reads and checks a scenario; errors name the file, line and key.
pub fn read_scenario(path: &Path) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    scenario::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The directory relative paths in a scenario start from.
pub fn scenario_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub async fn run(args: LoadArgs) -> anyhow::Result<i32> {
    match args.command {
        Some(LoadCommand::Calibrate(c)) => super::load_calibrate::run(c).await,
        None => run_scenario(args.run).await,
    }
}

async fn run_scenario(args: LoadRunArgs) -> anyhow::Result<i32> {
    let Some(path) = &args.scenario else {
        bail!("give a scenario file: perfwatch load SCENARIO.toml (see docs/load.md)");
    };
    let scenario = read_scenario(path)?;
    if args.submit && args.token.is_none() {
        bail!("--submit needs --token or PERFWATCH_TOKEN");
    }
    let opts = Options {
        quiet: args.quiet,
        ..Options::default()
    };
    let finished = engine::run(&scenario, &scenario_dir(path), &opts)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    print!("{}", table(&finished.report, &finished.meta));
    let mut code = 0;
    if args.out.is_some() || args.submit {
        code = write_and_submit(&args, &scenario, &finished).await?;
    }
    if let Some(why) = &finished.report.aborted {
        eprintln!("error: {why}; the partial results are marked invalid");
        return Ok(EXIT_ABORTED);
    }
    if !finished.breached().is_empty() {
        eprintln!("{} threshold(s) breached", finished.breached().len());
        return Ok(EXIT_THRESHOLD);
    }
    Ok(code)
}

async fn write_and_submit(
    args: &LoadRunArgs,
    scenario: &Scenario,
    f: &Finished,
) -> anyhow::Result<i32> {
    let native = to_run(&f.report, &f.meta);
    let merged = Merged {
        parsed: Parsed {
            results: native.results,
            metadata: native.metadata,
            testbed_hint: Some(f.meta.host.clone()),
        },
        header: None,
        formats: Vec::new(),
    };
    let mut fields = args.fields.clone();
    fields.project.get_or_insert_with(|| scenario.name.clone());
    let env = |k: &str| std::env::var(k).ok();
    let git = discover(&fields.repo, &env);
    let mut run = build_run(merged, &fields, &git, &env)?;
    run.started_at = native.started_at;
    run.finished_at = native.finished_at;
    run.trigger.get_or_insert_with(|| "load".into());
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&run)?)
            .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    if !args.submit {
        return Ok(0);
    }
    let server = ServerArgs {
        server: args.server.clone(),
        token: args.token.clone().unwrap_or_default(),
    };
    let receipt = post_run(&server, &run).await?;
    println!("{}", describe(&run, &receipt));
    super::load_rules::store_rules(
        &server,
        receipt.run_id,
        &scenario.name,
        &scenario.thresholds,
    )
    .await?;
    let code = match args.fail_on {
        None => 0,
        // An invalid run is left out of every verdict: saying "no regression" would
        // pass a run that measured nothing trustworthy.
        Some(FailOn::Regression) if !f.meta.invalid_reasons.is_empty() => {
            println!(
                "no verdict against the baseline: the run is invalid ({})",
                f.meta.invalid_reasons.join("; ")
            );
            0
        }
        Some(FailOn::Regression) => {
            let regressions = print_baseline(&server, receipt.run_id).await?;
            i32::from(regressions > 0)
        }
    };
    if let Some(name) = &args.release {
        let Some(commit) = run.commit.as_ref().map(|c| c.sha.clone()) else {
            bail!("--release needs a commit (--commit or a git checkout)");
        };
        mark_release(&server, &run.project, name, &commit).await?;
    }
    Ok(code)
}

/// `POST /api/v1/annotations` with kind `release`; an existing release is left as is.
async fn mark_release(
    server: &ServerArgs,
    project: &str,
    name: &str,
    commit: &str,
) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/annotations", server.server.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&server.token)
        .json(&json!({"project": project, "name": name, "kind": "release", "commit": commit}))
        .send()
        .await
        .with_context(|| format!("posting to {url}"))?;
    let status = resp.status();
    if status.is_success() {
        println!(
            "release {name} marked at {}",
            commit.get(..12).unwrap_or(commit)
        );
    } else if status == reqwest::StatusCode::CONFLICT {
        println!("release {name} already exists");
    } else {
        bail!(
            "marking release {name}: server answered {status}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    Ok(())
}
