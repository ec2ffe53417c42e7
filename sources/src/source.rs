//! The seam for source kinds: Prometheus today, Datadog or others later. The job worker
//! and the API hold a `MetricSource` and need not know which kind it is.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::collect::{collect_window, not_before, Collection};
use crate::config::{PromSource, QuerySpec};
use crate::prometheus::SourceError;
use crate::template::WindowVars;

/// A metrics backend that can evaluate queries over a run's window.
pub trait MetricSource {
    /// Short name of the kind, for logs and the admin page (`prometheus`).
    fn kind(&self) -> &'static str;
    /// The earliest time the window ending at `end` may be queried.
    fn not_before(&self, end: DateTime<Utc>) -> DateTime<Utc>;
    /// Evaluates `queries` over the window; `Send` so a worker can spawn it.
    fn collect(
        &self,
        queries: &[QuerySpec],
        vars: &WindowVars,
    ) -> impl Future<Output = Result<Collection, SourceError>> + Send;
}

impl MetricSource for PromSource {
    fn kind(&self) -> &'static str {
        "prometheus"
    }

    fn not_before(&self, end: DateTime<Utc>) -> DateTime<Utc> {
        not_before(self, end)
    }

    fn collect(
        &self,
        queries: &[QuerySpec],
        vars: &WindowVars,
    ) -> impl Future<Output = Result<Collection, SourceError>> + Send {
        collect_window(self, queries, vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn collection_future_is_send() {
        let src = PromSource::new("http://127.0.0.1:1");
        let vars = WindowVars {
            start: Utc::now(),
            end: Utc::now(),
            run_id: None,
            commit: None,
        };
        let fut = src.collect(&[], &vars);
        assert_send(&fut);
        assert_eq!(src.kind(), "prometheus");
        assert_eq!(
            MetricSource::not_before(&src, vars.end),
            not_before(&src, vars.end)
        );
    }
}
