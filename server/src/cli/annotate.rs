//! `perfwatch annotate KIND --version NAME [--commit SHA] [--at TIME]`: a release, deploy,
//! infrastructure or note marker through `POST /api/v1/annotations`, e.g. after a
//! deploy script: `perfwatch annotate deploy --version v2.0 --project shop`.

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::json;

use super::ingest::ServerArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Release,
    Deploy,
    Infra,
    Note,
}

#[derive(Debug, Args)]
pub struct AnnotateArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// What the marker is.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Project slug (or PERFWATCH_PROJECT).
    #[arg(long, env = "PERFWATCH_PROJECT")]
    pub project: String,
    /// The marker's name: the version deployed or released, or a short note.
    #[arg(long)]
    pub version: String,
    /// The commit it belongs to.
    #[arg(long)]
    pub commit: Option<String>,
    /// When it happened (RFC 3339); now when neither this nor a commit is given.
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

pub async fn run(args: AnnotateArgs) -> anyhow::Result<()> {
    let kind = match args.kind {
        Kind::Release => "release",
        Kind::Deploy => "deploy",
        Kind::Infra => "infra",
        Kind::Note => "note",
    };
    let at = match (&args.at, &args.commit) {
        (Some(t), _) => Some(
            chrono::DateTime::parse_from_rfc3339(t)
                .with_context(|| format!("--at {t}: expected an RFC 3339 time"))?
                .to_rfc3339(),
        ),
        (None, None) => Some(chrono::Utc::now().to_rfc3339()),
        (None, Some(_)) => None,
    };
    let url = format!(
        "{}/api/v1/annotations",
        args.server.server.trim_end_matches('/')
    );
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&args.server.token)
        .json(&json!({
            "project": args.project, "name": args.version, "kind": kind,
            "commit": args.commit, "time": at, "description": args.description,
        }))
        .send()
        .await
        .with_context(|| format!("posting to {url}"))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("the server answered {status}: {body}");
    }
    println!("{kind} {} marked", args.version);
    Ok(())
}
