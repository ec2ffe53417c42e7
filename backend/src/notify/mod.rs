//! Notifications: per-project webhook subscriptions and their delivery log. Each
//! delivery is a job of the work queue, sent by `delivery.rs` with retries and
//! exponential backoff.
//!
//! A delivery stores the event (kind and ids); the worker renders the message when it
//! sends, in the subscription's format (`json`: a generic document; `slack`: a
//! Slack-compatible `{"text": …, "blocks": …}`), from the event's digest
//! (`perfwatch_core::digest`, built in `summary.rs`), and signs the exact body with HMAC-SHA256 of the
//! subscription's secret: header `X-Perfwatch-Signature: sha256=<hex>`.

mod events;
mod render;
mod subscriptions;
mod summary;

use std::time::Duration;

pub use events::{
    canonical_event, chart_image_url, comparison_event, finished_event, ChangeRow, Event, EVENTS,
};
/// HMAC-SHA256 of a delivery body under the subscription's secret, lowercase hex (the
/// `hmac` crate, shared with GitHub's webhook signatures).
pub use perfwatch_github::signature::hmac_sha256_hex;
pub(crate) use render::render_delivery;
pub use render::render_event;
pub use subscriptions::{
    create_webhook, delete_webhook, list_deliveries, list_webhooks, seal_stored_webhook_secrets,
    Delivery, Webhook,
};
pub use summary::{comparison_digest, group_digest};

/// Delivery settings (the queue's retry policy for deliveries, the HTTP timeout, the
/// worker's poll); tests shorten them.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub poll: Duration,
    /// Wait after the first failure; doubles after each further one.
    pub backoff: Duration,
    pub max_attempts: i64,
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            backoff: Duration::from_secs(30),
            max_attempts: 6,
            timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
