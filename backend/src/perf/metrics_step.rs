//! The `metrics` step of a job: the definition's `[metrics]` table read by
//! `perfwatch-sources`, evaluated over the load step's exact window once the source's
//! settle delay has passed, turned into results of the run.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use perfwatch_jobs::runner::{Collected, MetricsCollector};
use perfwatch_sources::{
    collect_window, not_before, parse_metrics_table, to_results, Collection, PromSource, QuerySpec,
    SourceError, WindowVars,
};

/// Attempts at a collection whose errors are retryable (an unreachable source, 5xx,
/// 429, an unsettled window), and the pause before the first retry (doubling).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Collects a job's metrics from a Prometheus-compatible source.
pub struct PromCollector {
    pub commit: Option<String>,
    pub job: i64,
}

impl MetricsCollector for PromCollector {
    fn collect<'a>(
        &'a self,
        table: &'a toml::Table,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Collected, String>> + Send + 'a>> {
        Box::pin(async move {
            let (source, queries) = parse_metrics_table(table).map_err(|e| e.to_string())?;
            let ready = not_before(&source, end);
            let wait = (ready - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let vars = WindowVars {
                start,
                end,
                run_id: Some(format!("job-{}", self.job)),
                commit: self.commit.clone(),
            };
            let collection = collect_retrying(&source, &queries, &vars).await?;
            let (results, metadata) = to_results(&collection, &queries);
            // Every value that cannot be trusted (low coverage, a required query
            // without data, NaN, a value ingest would refuse) makes the run invalid;
            // the good values and the coverage of every query are kept with the run.
            let invalid = invalid_values(&metadata);
            if results.is_empty() && invalid.is_empty() {
                return Err("the metrics step produced no data".into());
            }
            Ok(Collected {
                results,
                metadata,
                invalid,
            })
        })
    }
}

/// [`collect_window`], tried again while its error is retryable (a Prometheus
/// restarting, a 503 from a busy Thanos): a blip must not make a 20-minute run invalid.
/// An unsettled window is waited for until the time it names.
async fn collect_retrying(
    source: &PromSource,
    queries: &[QuerySpec],
    vars: &WindowVars,
) -> Result<Collection, String> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match collect_window(source, queries, vars).await {
            Ok(c) => return Ok(c),
            Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                let pause = match &e {
                    SourceError::NotSettled { not_before } => (*not_before - Utc::now())
                        .to_std()
                        .unwrap_or_default()
                        .max(Duration::from_millis(100)),
                    _ => backoff,
                };
                tracing::info!(attempt, error = %e, "metrics: retrying after {pause:?}");
                tokio::time::sleep(pause).await;
                backoff *= 2;
                attempt += 1;
            }
            Err(e) if e.is_retryable() => {
                return Err(format!("metrics: {e} (after {attempt} attempts)"));
            }
            Err(e) => return Err(format!("metrics: {e}")),
        }
    }
}

/// `query{label=value}: reason` for every entry of the collection's `invalid_metrics`.
fn invalid_values(meta: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    let Some(list) = meta.get("invalid_metrics").and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .map(|e| {
            let query = e["query"].as_str().unwrap_or("?");
            let label = match &e["label"] {
                serde_json::Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let reason = e["reason"].as_str().unwrap_or("invalid");
            if label.is_empty() {
                format!("{query}: {reason}")
            } else {
                format!("{query}{{{label}}}: {reason}")
            }
        })
        .collect()
}
