//! `--fail-on regression`: the submitted run against its baseline (the main branch),
//! read from `GET /api/v1/runs/{id}/baseline` into the server's own answer type
//! ([`RunVerdict`]) and printed through the one summary renderer: the digest of the
//! `comparison.finished` notification (`backend::notify`), as terminal text.

use std::io::IsTerminal;

use perfwatch_backend::baseline::RunVerdict;
use perfwatch_backend::notify::{comparison_digest, finished_event};
use perfwatch_core::digest::to_terminal;

use super::ingest::ServerArgs;

/// `GET /api/v1/runs/{id}/baseline`.
pub async fn fetch_baseline(server: &ServerArgs, run_id: i64) -> anyhow::Result<RunVerdict> {
    server
        .get_json(&reqwest::Client::new(), &format!("/runs/{run_id}/baseline"))
        .await
}

/// The verdict as terminal text, its links under `server` (the compare page and the
/// run), colour only when asked; and the number of regressions.
pub fn baseline_report(server: &str, v: &RunVerdict, color: bool) -> (String, usize) {
    let event = finished_event(v, None);
    let text = comparison_digest(&v.project, &event, server.trim_end_matches('/'))
        .map(|d| to_terminal(&d, color))
        .unwrap_or_default();
    (text, v.summary.regressions)
}

/// Fetches run `run_id`'s verdict, prints it (in colour on a terminal) and returns
/// the number of regressions.
pub async fn print_baseline(server: &ServerArgs, run_id: i64) -> anyhow::Result<usize> {
    let verdict = fetch_baseline(server, run_id).await?;
    let (text, regressions) =
        baseline_report(&server.server, &verdict, std::io::stdout().is_terminal());
    print!("{text}");
    Ok(regressions)
}
