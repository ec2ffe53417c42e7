//! The process's metrics in Prometheus/OpenMetrics form. One [`Metrics`] per server
//! (not a global), so two servers in one test process count apart.
//!
//! Counters are bumped where the event happens (the request middleware, the ingest
//! handler, the webhook worker); queue gauges are read from the database when scraped,
//! because the queue is shared by every process on the database and a per-process count
//! would be wrong with several servers.

use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};

/// What `GET /metrics` answers with.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectiveLabels {
    directive: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

/// One row of the queue's state at scrape time.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueGauge {
    pub kind: String,
    pub state: String,
    pub jobs: i64,
    /// Age of the oldest job of this kind and state, seconds.
    pub oldest_age_seconds: f64,
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn request_duration_histogram() -> Histogram {
    // 1 ms … 16 s: page and API answers, through slow comparisons.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: DurationFamily,
    ingest_runs: Family<OutcomeLabels, Counter>,
    ingest_points: Counter,
    job_outcomes: Family<JobLabels, Counter>,
    queue_jobs: Family<QueueLabels, Gauge>,
    queue_oldest: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    queue_takeovers: Family<KindLabels, Gauge>,
    csp_violations: Family<DirectiveLabels, Counter>,
    logins: Family<OutcomeLabels, Counter>,
    /// Scrapes set the queue gauges and encode; one at a time, so a clear-and-refill
    /// of the gauges is never seen half done.
    scrape: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `metric` under `name` and gives it back to be kept.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// `build_info{version}`: always 1, so a scrape tells which version answers.
fn register_build_info(registry: &mut Registry) {
    let build_info = registered(
        registry,
        "build_info",
        "Always 1; the version label is this binary's version",
        Family::<VersionLabels, Gauge>::default(),
    );
    build_info
        .get_or_create(&VersionLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
        .set(1);
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("perfwatch");
        let http_requests = registered(
            &mut registry,
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            Family::<RequestLabels, Counter>::default(),
        );
        let http_duration: DurationFamily = registered(
            &mut registry,
            "http_request_duration_seconds",
            "Time from receiving a request to its answer, by method and matched route",
            Family::new_with_constructor(request_duration_histogram),
        );
        let ingest_runs = registered(
            &mut registry,
            "ingest_runs",
            "Runs submitted, by outcome (stored, duplicate)",
            Family::<OutcomeLabels, Counter>::default(),
        );
        let ingest_points = registered(
            &mut registry,
            "ingest_points",
            "Measurements (series x run) stored; rate() of it is the ingest points/s",
            Counter::default(),
        );
        let job_outcomes = registered(
            &mut registry,
            "queue_job_outcomes",
            "Attempts of this process's workers, by job kind and outcome (done, retry, dead, released, refused); kind=\"webhook.delivery\" are webhook deliveries",
            Family::<JobLabels, Counter>::default(),
        );
        let queue_jobs = registered(
            &mut registry,
            "queue_jobs",
            "Jobs in the work queue, by kind and state (read from the database)",
            Family::<QueueLabels, Gauge>::default(),
        );
        let queue_oldest = registered(
            &mut registry,
            "queue_oldest_age_seconds",
            "Age of the oldest job in the work queue, by kind and state",
            Family::<QueueLabels, Gauge<f64, AtomicU64>>::default(),
        );
        let queue_takeovers = registered(
            &mut registry,
            "queue_takeovers",
            "Claims that took over an expired lease (a worker died or stalled), summed over the jobs still in the queue table, by kind",
            Family::<KindLabels, Gauge>::default(),
        );
        let csp_violations = registered(
            &mut registry,
            "csp_violations",
            "Content-Security-Policy violations reported by browsers, by directive",
            Family::<DirectiveLabels, Counter>::default(),
        );
        let logins = registered(
            &mut registry,
            "login_attempts",
            "Login attempts, by outcome (ok, wrong, throttled, busy)",
            Family::<OutcomeLabels, Counter>::default(),
        );
        register_build_info(&mut registry);
        Self {
            registry,
            http_requests,
            http_duration,
            ingest_runs,
            ingest_points,
            job_outcomes,
            queue_jobs,
            queue_oldest,
            queue_takeovers,
            csp_violations,
            logins,
            scrape: Mutex::new(()),
        }
    }

    /// One answered request. `route` is the matched route template (`/series/{id}`),
    /// never the raw path, so ids do not blow up the label space.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// One submitted run: stored with `points` measurements, or a duplicate.
    pub fn observe_ingest(&self, duplicate: bool, points: usize) {
        let outcome = if duplicate { "duplicate" } else { "stored" };
        self.ingest_runs
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
        self.ingest_points.inc_by(points as u64);
    }

    /// How one attempt of a job of `kind` ended: `done`, `retry`, `dead`, `released`
    /// (given back at shutdown) or `refused` (its lease had been taken over).
    pub fn observe_job(&self, kind: &str, outcome: &str) {
        self.job_outcomes
            .get_or_create(&JobLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// One login attempt: `ok`, `wrong` (name or password), `throttled`, `busy`.
    pub fn observe_login(&self, outcome: &str) {
        self.logins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// A browser reported a Content-Security-Policy violation.
    pub fn observe_csp_violation(&self, directive: &str) {
        self.csp_violations
            .get_or_create(&DirectiveLabels {
                directive: directive.into(),
            })
            .inc();
    }

    /// The exposition: queue gauges replaced by `queue` and `takeovers` (kind, count),
    /// read by the caller from the database just before, then every metric in
    /// OpenMetrics text.
    pub fn render(&self, queue: &[QueueGauge], takeovers: &[(String, i64)]) -> String {
        let _one_at_a_time = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.queue_jobs.clear();
        self.queue_oldest.clear();
        self.queue_takeovers.clear();
        for (kind, n) in takeovers {
            self.queue_takeovers
                .get_or_create(&KindLabels { kind: kind.clone() })
                .set(*n);
        }
        for q in queue {
            let labels = QueueLabels {
                kind: q.kind.clone(),
                state: q.state.clone(),
            };
            self.queue_jobs.get_or_create(&labels).set(q.jobs);
            self.queue_oldest
                .get_or_create(&labels)
                .set(q.oldest_age_seconds);
        }
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in a
        // label value, and a partial exposition is still better than none.
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_documented_metric_with_labels() {
        let m = Metrics::new();
        m.observe_request("GET", "/series/{id}", 200, Duration::from_millis(3));
        m.observe_request("GET", "/series/{id}", 200, Duration::from_millis(5));
        m.observe_ingest(false, 100);
        m.observe_ingest(true, 0);
        m.observe_job("webhook", "dead");
        let text = m.render(
            &[QueueGauge {
                kind: "detect".into(),
                state: "queued".into(),
                jobs: 3,
                oldest_age_seconds: 1.5,
            }],
            &[("webhook".into(), 2)],
        );
        for line in [
            r#"perfwatch_http_requests_total{method="GET",route="/series/{id}",status="200"} 2"#,
            r#"perfwatch_http_request_duration_seconds_count{method="GET",route="/series/{id}"} 2"#,
            r#"perfwatch_ingest_runs_total{outcome="stored"} 1"#,
            r#"perfwatch_ingest_runs_total{outcome="duplicate"} 1"#,
            "perfwatch_ingest_points_total 100",
            r#"perfwatch_queue_job_outcomes_total{kind="webhook",outcome="dead"} 1"#,
            r#"perfwatch_queue_jobs{kind="detect",state="queued"} 3"#,
            r#"perfwatch_queue_oldest_age_seconds{kind="detect",state="queued"} 1.5"#,
            r#"perfwatch_queue_takeovers{kind="webhook"} 2"#,
            "# EOF",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // The 5 ms answer falls in the 8 ms bucket, not in the 4 ms one.
        assert!(text.contains(
            r#"perfwatch_http_request_duration_seconds_bucket{le="0.008",method="GET",route="/series/{id}"} 2"#
        ) || text.contains(
            r#"perfwatch_http_request_duration_seconds_bucket{method="GET",route="/series/{id}",le="0.008"} 2"#
        ), "{text}");
    }

    #[test]
    fn queue_gauges_of_an_emptied_queue_disappear() {
        let m = Metrics::new();
        let busy = [QueueGauge {
            kind: "detect".into(),
            state: "queued".into(),
            jobs: 3,
            oldest_age_seconds: 1.0,
        }];
        assert!(m.render(&busy, &[]).contains("perfwatch_queue_jobs{"));
        assert!(!m.render(&[], &[]).contains("perfwatch_queue_jobs{"));
    }
}
