//! perfwatch's own health, seen from outside: Prometheus metrics ([`Metrics`]) and the
//! request id that ties a request's log lines, its span and its error answer together
//! ([`request_id`]). Every metric name is documented in docs/observability.md.

mod metrics;
mod queue;
mod request_id;

pub use metrics::{Metrics, QueueGauge, OPENMETRICS_CONTENT_TYPE};
pub use queue::read_queue_gauges;
pub use request_id::{current_request_id, new_request_id, with_request_id};
