//! The `metrics` step of a job: the definition's `[metrics]` table read by
//! `perfwatch-sources`, evaluated over the load step's exact window once the source's
//! settle delay has passed, turned into results of the run.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use perfwatch_core::model::ResultInput;
use perfwatch_jobs::runner::MetricsCollector;
use perfwatch_sources::{collect_window, not_before, parse_metrics_table, to_results, WindowVars};

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
    ) -> Pin<Box<dyn Future<Output = Result<Vec<ResultInput>, String>> + Send + 'a>> {
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
            let collection = collect_window(&source, &queries, &vars)
                .await
                .map_err(|e| format!("metrics: {e}"))?;
            let (results, _meta) = to_results(&collection, &queries);
            let invalid: Vec<String> = collection
                .values
                .iter()
                .filter_map(|v| v.invalid.as_ref().map(|why| format!("{}: {why}", v.query)))
                .collect();
            if results.is_empty() {
                return Err(format!(
                    "the metrics step produced no data{}",
                    if invalid.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", invalid.join("; "))
                    }
                ));
            }
            Ok(results)
        })
    }
}
