//! `perfwatch metrics source PROJECT NAME --config FILE` and `perfwatch metrics collect
//! RUN --source NAME`: a project's metric sources and window collection, through the
//! server's API (docs/metrics.md).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use perfwatch_backend::window_metrics::SourceView;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::ingest::ServerArgs;
use crate::api::bodies::CollectQueued;

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub action: MetricsAction,
}

#[derive(Debug, Subcommand)]
pub enum MetricsAction {
    /// Create or replace a metric source from a TOML file (`url`, `settle`,
    /// `scrape_interval`, `[[query]]`…); a bearer token comes from
    /// PERFWATCH_METRICS_TOKEN, never from the command line.
    Source {
        project: String,
        name: String,
        #[arg(long)]
        config: PathBuf,
    },
    /// Collect a source's queries over a stored run's window, as a linked run.
    Collect {
        run: i64,
        #[arg(long)]
        source: String,
    },
}

/// Sends `req` and decodes the answer into the server's own answer type.
async fn send<T: DeserializeOwned>(req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<T> {
    let resp = req.send().await.with_context(|| what.to_string())?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("{what}: the server answered {status}: {body}");
    }
    resp.json()
        .await
        .with_context(|| format!("{what}: decoding the server's answer"))
}

pub async fn run(args: MetricsArgs) -> anyhow::Result<()> {
    let base = args.server.server.trim_end_matches('/');
    let http = reqwest::Client::new();
    match args.action {
        MetricsAction::Source {
            project,
            name,
            config,
        } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let token = std::env::var("PERFWATCH_METRICS_TOKEN").ok();
            let url = format!("{base}/api/v1/projects/{project}/metric-sources/{name}");
            let v: SourceView = send(
                http.put(&url)
                    .bearer_auth(&args.server.token)
                    .json(&json!({ "config": text, "bearer_token": token })),
                &format!("saving metric source {name}"),
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        MetricsAction::Collect { run, source } => {
            let url = format!("{base}/api/v1/runs/{run}/metrics");
            let v: CollectQueued = send(
                http.post(&url)
                    .bearer_auth(&args.server.token)
                    .json(&json!({ "source": source })),
                &format!("collecting {source} over run {run}"),
            )
            .await?;
            println!(
                "queued: the values of {source} over run {run}'s window are stored as a linked run (job {}, due at {} ms)",
                v.queued, v.not_before
            );
        }
    }
    Ok(())
}
