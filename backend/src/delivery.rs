//! Sends one webhook delivery: the `webhook.delivery` job of the work queue.
//!
//! The message is rendered when sent, in the subscription's format, and signed with
//! HMAC-SHA256 of the subscription's secret (`X-Perfwatch-Signature: sha256=<hex>`).
//! A receiver that fails (non-2xx, unreachable) gets the attempt again after the
//! queue's backoff; an event that does not decode or render counts its attempt and is
//! dead at once — it would fail the same way every time.

use std::time::Duration;

use serde::Deserialize;

use crate::error::StoreError;
use crate::notify::{hmac_sha256_hex, Event};
use crate::queue::{kinds, Handler, HandlerFuture, JobFailure, Lease, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::queue::Finish;
use crate::store::{AttemptRecord, DeliveryTarget};
use crate::Store;

#[derive(Deserialize)]
struct DeliveryJob {
    delivery_id: i64,
}

/// Runs [`kinds::WEBHOOK`] jobs.
pub struct DeliveryHandler {
    pub store: Store,
    pub client: reqwest::Client,
    /// Base URL of links in messages.
    pub base: String,
    pub timeout: Duration,
    /// Opens the subscriptions' sealed signing secrets.
    pub seal: SealKey,
}

/// What one attempt came to.
struct Sent {
    ok: bool,
    status: Option<i64>,
    error: Option<String>,
    permanent: bool,
}

impl Sent {
    fn unsendable(error: String) -> Self {
        Self {
            ok: false,
            status: None,
            error: Some(error),
            permanent: true,
        }
    }
}

impl DeliveryHandler {
    async fn attempt(&self, t: &DeliveryTarget) -> Sent {
        let event: Event = match serde_json::from_str(&t.payload) {
            Ok(e) => e,
            Err(e) => return Sent::unsendable(format!("the event does not decode: {e}")),
        };
        let body = match crate::notify::render_delivery(
            &self.store,
            t.project_id,
            &t.format,
            &event,
            &self.base,
        )
        .await
        {
            Ok(b) => b,
            // A database that does not answer may answer next time.
            Err(StoreError::Database(e)) => {
                return Sent {
                    permanent: false,
                    ..Sent::unsendable(format!("rendering failed: {e}"))
                }
            }
            Err(e) => return Sent::unsendable(format!("the event does not render: {e}")),
        };
        // A key that cannot open the secret will not open it next time either.
        let secret = match self.seal.open_tagged(&t.secret, "webhook signing secret") {
            Ok(s) => s,
            Err(e) => return Sent::unsendable(e.to_string()),
        };
        let sig = hmac_sha256_hex(secret.as_bytes(), body.as_bytes());
        let sent = self
            .client
            .post(&t.url)
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .header("x-perfwatch-event", event.name())
            .header("x-perfwatch-delivery", t.delivery_id.to_string())
            .header("x-perfwatch-signature", format!("sha256={sig}"))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let code = resp.status();
                Sent {
                    ok: code.is_success(),
                    status: Some(i64::from(code.as_u16())),
                    error: (!code.is_success()).then(|| format!("HTTP {code}")),
                    permanent: false,
                }
            }
            Err(e) => Sent {
                ok: false,
                status: None,
                error: Some(e.to_string()),
                permanent: false,
            },
        }
    }
}

impl Handler for DeliveryHandler {
    fn kind(&self) -> &'static str {
        kinds::WEBHOOK
    }

    fn run<'a>(&'a self, queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let job: DeliveryJob = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload of {}: {e}", lease.kind)))?;
            // The subscription was deleted, and its log with it: nothing to send.
            let Some(target) = self.store.delivery_target(job.delivery_id).await? else {
                return Ok(Outcome::Done);
            };
            let sent = self.attempt(&target).await;
            let how = if sent.ok {
                Finish::Done
            } else {
                let msg = sent.error.clone().unwrap_or_default();
                let why = if sent.permanent {
                    JobFailure::Permanent(msg)
                } else {
                    JobFailure::Retry(msg)
                };
                queue.after(lease, &why)
            };
            let rec = AttemptRecord {
                delivery_id: target.delivery_id,
                attempts: lease.attempt,
                last_status: sent.status,
                last_error: sent.error,
            };
            let recorded = self
                .store
                .finish_delivery(lease.job_id, lease.fence, &how, &rec, queue.now_ms())
                .await?;
            if !recorded {
                tracing::warn!(
                    delivery = target.delivery_id,
                    "delivery taken over by another worker; this attempt was not recorded"
                );
            }
            Ok(Outcome::Finished)
        })
    }
}
