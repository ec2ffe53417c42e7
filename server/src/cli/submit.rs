//! `perfwatch submit FILE`: post a native-format run, filling branch and commit from git.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use perfwatch_core::model::{CommitInput, RunSubmission};

use super::git::{discover, GitInfo};

#[derive(Debug, Args, Clone)]
pub struct SubmitArgs {
    /// Native-format JSON run file.
    pub file: PathBuf,
    /// perfwatch server URL.
    #[arg(long, env = "PERFWATCH_URL", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// API token (or PERFWATCH_TOKEN).
    #[arg(long, env = "PERFWATCH_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Project slug, when the file does not name one.
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub branch: Option<String>,
    #[arg(long)]
    pub testbed: Option<String>,
    /// Commit sha measured (default: from GITHUB_SHA or git HEAD).
    #[arg(long)]
    pub commit: Option<String>,
    /// Idempotency key (default: from GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT when set).
    #[arg(long)]
    pub run_key: Option<String>,
    /// Repository to read commit details from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
}

/// Fills what the file leaves out from the flags and from git; the file wins over git,
/// flags win over both.
pub fn complete_run(mut run: RunSubmission, args: &SubmitArgs, git: &GitInfo) -> RunSubmission {
    if let Some(p) = &args.project {
        run.project = p.clone();
    }
    if let Some(b) = args
        .branch
        .clone()
        .or_else(|| run.branch.clone())
        .or_else(|| git.branch.clone())
    {
        run.branch = Some(b);
    }
    if let Some(t) = &args.testbed {
        run.testbed = Some(t.clone());
    }
    if let Some(k) = &args.run_key {
        run.run_key = Some(k.clone());
    }
    let sha = args
        .commit
        .clone()
        .or_else(|| run.commit.as_ref().map(|c| c.sha.clone()))
        .or_else(|| git.sha.clone());
    if let Some(sha) = sha {
        let same_as_git = git.sha.as_deref() == Some(sha.as_str());
        let mut c = run.commit.take().unwrap_or_default();
        c.sha = sha;
        if same_as_git {
            c.parent = c.parent.or_else(|| git.parent.clone());
            c.author = c.author.or_else(|| git.author.clone());
            c.message = c.message.or_else(|| git.message.clone());
            c.time = c.time.or(git.time);
        }
        run.commit = Some(CommitInput { ..c });
    }
    run
}

pub async fn run(args: SubmitArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let run: RunSubmission = perfwatch_core::validate::parse_run_json(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {}",
            args.file.display(),
            e.errors
                .iter()
                .map(|f| format!("{}: {}", f.path, f.reason))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let env = |k: &str| std::env::var(k).ok();
    let git = discover(&args.repo, &env);
    let mut run = complete_run(run, &args, &git);
    if run.run_key.is_none() {
        if let (Some(id), Some(attempt)) = (env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT")) {
            run.run_key = Some(format!(
                "gha-{id}-{attempt}-{}",
                run.testbed.clone().unwrap_or_default()
            ));
        }
    }
    if run.project.is_empty() {
        bail!("no project: give --project or set \"project\" in the file");
    }
    let receipt = post_run(&args.server, &args.token, &run).await?;
    println!(
        "{} run {} of {} ({} results): {}",
        if receipt.duplicate {
            "already stored:"
        } else {
            "submitted"
        },
        receipt.run_id,
        run.project,
        run.results.len(),
        receipt.url
    );
    Ok(())
}

/// Posts a run; a 4xx answer is printed with its field errors.
pub async fn post_run(
    server: &str,
    token: &str,
    run: &RunSubmission,
) -> anyhow::Result<perfwatch_core::view::RunReceipt> {
    let url = format!("{}/api/v1/runs", server.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .json(run)
        .send()
        .await
        .with_context(|| format!("posting to {url}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        bail!("server answered {status}: {body}");
    }
    Ok(serde_json::from_str(&body)?)
}
