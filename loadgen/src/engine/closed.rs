//! The closed model: N virtual users, each running one iteration after another, with
//! think time between them. With `pacing`, iteration k of a user is meant to start at
//! k × pacing; an iteration that starts late because the previous one was slow counts
//! its response time from that intended start (the pacing-corrected latency), while
//! service time stays the raw latency. Without pacing both are the raw latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{flow, Shared};
use crate::http::Session;

pub async fn run(sh: Arc<Shared>, vus: usize, think: Duration, pacing: Option<Duration>) {
    let end = sh.t0 + sh.scenario.total();
    let mut users = Vec::new();
    for vu in 0..vus {
        let sh = sh.clone();
        users.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(sh.scenario.seed.wrapping_add(vu as u64));
            // Spread the users' starts over one pacing period.
            let stagger = pacing
                .map(|p| p * vu as u32 / vus as u32)
                .unwrap_or_default();
            let mut next = sh.t0 + stagger;
            // One request timer for all of this user's requests.
            let mut session = Session::default();
            for iter in 0u64.. {
                if sh.stopped() {
                    break;
                }
                let intended = match pacing {
                    Some(_) => next,
                    None => Instant::now().max(next),
                };
                if intended >= end {
                    break;
                }
                // Only sleep for a future start: tokio's timer fires on the next
                // millisecond tick even for a deadline already passed.
                if intended > Instant::now() {
                    tokio::time::sleep_until(intended.into()).await;
                }
                let f = flow::pick(&sh, &mut rng);
                flow::iteration(&sh, f, vu as u64, iter, intended, &mut session).await;
                match pacing {
                    Some(p) => next += p,
                    None => next = Instant::now() + think,
                }
                if pacing.is_some() && !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
        }));
    }
    for u in users {
        let _ = u.await;
    }
}
