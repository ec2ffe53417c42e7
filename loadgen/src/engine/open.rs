//! The open model: arrivals at their intended times whatever the service does. When
//! `max_in_flight` iterations are running, an arrival waits for a slot (its lag and
//! response time show the wait) or is dropped and counted.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::Semaphore;

use super::{flow, Shared};
use crate::http::Session;
use crate::scenario::WhenFull;
use crate::schedule::{Arrival, RateProfile, Schedule};

pub async fn run(
    sh: Arc<Shared>,
    profile: RateProfile,
    arrival: Arrival,
    max_in_flight: usize,
    when_full: WhenFull,
) {
    let seed = sh.scenario.seed;
    let slots = Arc::new(Semaphore::new(max_in_flight));
    // Flow choice has its own stream so the schedule stays the same when flows change.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    for (n, offset) in Schedule::new(profile, arrival, seed).enumerate() {
        if sh.stopped() {
            break;
        }
        let intended = sh.t0 + offset;
        // A late arrival starts at once (tokio's timer would wait for its next tick).
        if intended > std::time::Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        let permit = match when_full {
            WhenFull::Queue => match slots.clone().acquire_owned().await {
                Ok(p) => p,
                Err(_) => break,
            },
            WhenFull::Drop => match slots.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    sh.rec().record_drop(offset);
                    continue;
                }
            },
        };
        let f = flow::pick(&sh, &mut rng);
        let sh2 = sh.clone();
        tokio::spawn(async move {
            let mut session = Session::default();
            flow::iteration(&sh2, f, n as u64, n as u64, intended, &mut session).await;
            drop(permit);
        });
    }
    // Wait for the iterations still running (each step is bounded by the timeout).
    let steps: u32 = sh
        .scenario
        .flows
        .iter()
        .map(|f| f.steps.iter().map(|s| s.repeat).sum::<u32>())
        .max()
        .unwrap_or(1);
    let wait = sh.scenario.timeout * steps + Duration::from_secs(1);
    let _ = tokio::time::timeout(wait, slots.acquire_many(max_in_flight as u32)).await;
}
