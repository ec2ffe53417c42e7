//! What a failed attempt becomes (pure): retried after an exponential backoff, or dead
//! once the attempts are used up or the failure is permanent.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::store::queue::Finish;

/// How often a kind of job is tried and how long it waits in between; stored on each
/// job when it is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    /// Wait after the first failure, ms; doubles after each further one.
    pub backoff_ms: i64,
}

/// Policies set at start-up by kind (e.g. the webhook settings of the server's
/// configuration), read where jobs of that kind are queued.
#[derive(Debug, Default)]
pub struct Policies(RwLock<HashMap<String, RetryPolicy>>);

impl Policies {
    pub fn set(&self, kind: &str, p: RetryPolicy) {
        if let Ok(mut m) = self.0.write() {
            m.insert(kind.to_string(), p);
        }
    }

    pub fn get(&self, kind: &str, default: RetryPolicy) -> RetryPolicy {
        self.0
            .read()
            .ok()
            .and_then(|m| m.get(kind).copied())
            .unwrap_or(default)
    }
}

/// Longest wait between two attempts, whatever the backoff and attempt count.
pub const MAX_BACKOFF_MS: i64 = 6 * 3_600_000;

/// Wait before the attempt after attempt number `attempts` (1-based) failed:
/// `backoff`, `2·backoff`, `4·backoff`, … capped at [`MAX_BACKOFF_MS`].
pub fn backoff_ms(backoff: i64, attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 30) as u32;
    backoff
        .max(0)
        .saturating_mul(1i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// The end of a failed attempt number `attempts` of at most `max_attempts`.
pub fn after_failure(
    attempts: i64,
    max_attempts: i64,
    backoff: i64,
    permanent: bool,
    error: String,
    now: i64,
) -> Finish {
    if permanent || attempts >= max_attempts {
        Finish::Dead { error }
    } else {
        Finish::Retry {
            not_before: now + backoff_ms(backoff, attempts),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_and_is_capped() {
        assert_eq!(backoff_ms(100, 1), 100);
        assert_eq!(backoff_ms(100, 2), 200);
        assert_eq!(backoff_ms(100, 4), 800);
        assert_eq!(backoff_ms(30_000, 40), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(i64::MAX, 3), MAX_BACKOFF_MS);
    }

    #[test]
    fn last_attempt_or_permanent_failure_is_dead() {
        let e = || "boom".to_string();
        assert_eq!(
            after_failure(1, 3, 100, false, e(), 1000),
            Finish::Retry {
                not_before: 1100,
                error: e()
            }
        );
        assert_eq!(
            after_failure(3, 3, 100, false, e(), 1000),
            Finish::Dead { error: e() }
        );
        assert_eq!(
            after_failure(1, 3, 100, true, e(), 1000),
            Finish::Dead { error: e() }
        );
    }
}
