//! Login throttling and the cap on concurrent password hashes.
//!
//! Every failed login counts against the account name it tried and against the client
//! address. After a few free failures each further one doubles the wait before that
//! name (or address) may try again, up to a ceiling; while the wait runs every attempt
//! is refused before any password is checked, the right password included, so guessing
//! gains nothing from speed. Unknown names are throttled exactly like known ones, so
//! the answers do not tell which accounts exist. A success clears the name's count.
//!
//! Each argon2id check costs 19 MiB for tens of milliseconds: a semaphore lets only a
//! few run at once, so a burst of attempts queues (and is refused when it waits too
//! long) instead of exhausting memory.
//!
//! The counts live in the process: several servers on one database each keep their
//! own, which multiplies an attacker's rate by the number of servers, not more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// How failures turn into waits.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failures per account name before the first wait.
    pub free_per_account: u32,
    /// Failures per client address before the first wait (higher: an office shares one).
    pub free_per_address: u32,
    /// The first wait; each further failure doubles it.
    pub base_wait: Duration,
    pub max_wait: Duration,
    /// Password checks that may run at once.
    pub concurrent_hashes: usize,
    /// How long an attempt may wait for a hash slot before it is refused as busy.
    pub hash_queue_wait: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            free_per_account: 3,
            free_per_address: 20,
            base_wait: Duration::from_secs(2),
            max_wait: Duration::from_secs(15 * 60),
            concurrent_hashes: 4,
            hash_queue_wait: Duration::from_secs(10),
        }
    }
}

/// The wait after `failures` failures when `free` are allowed: none up to `free`, then
/// `base`, doubling with each failure, never more than `max`.
pub fn wait_after(failures: u32, free: u32, base: Duration, max: Duration) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(30);
    base.saturating_mul(1u32 << doublings).min(max)
}

/// What a throttle key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Account,
    Address,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The login guard of one server.
pub struct LoginGuard {
    policy: LoginPolicy,
    failures: Mutex<HashMap<(KeyKind, String), Failures>>,
    hashes: Semaphore,
}

/// Keys kept before old entries are forgotten (random names must not grow memory
/// without bound).
const MAX_KEYS: usize = 50_000;

impl LoginGuard {
    pub fn new(policy: LoginPolicy) -> Self {
        let permits = policy.concurrent_hashes.max(1);
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
            hashes: Semaphore::new(permits),
        }
    }

    fn free(&self, kind: KeyKind) -> u32 {
        match kind {
            KeyKind::Account => self.policy.free_per_account,
            KeyKind::Address => self.policy.free_per_address,
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(KeyKind, String), Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long the caller must still wait before trying `keys`; zero when it may try.
    pub fn wait(&self, keys: &[(KeyKind, String)], now: Instant) -> Duration {
        let table = self.table();
        keys.iter()
            .filter_map(|k| {
                let f = table.get(k)?;
                let wait = wait_after(
                    f.count,
                    self.free(k.0),
                    self.policy.base_wait,
                    self.policy.max_wait,
                );
                (f.last + wait).checked_duration_since(now)
            })
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Counts a failed attempt against every key.
    pub fn failed(&self, keys: &[(KeyKind, String)], now: Instant) {
        let mut table = self.table();
        if table.len() >= MAX_KEYS {
            let max = self.policy.max_wait;
            table.retain(|_, f| now.saturating_duration_since(f.last) < max);
            if table.len() >= MAX_KEYS {
                table.clear();
            }
        }
        for k in keys {
            let f = table.entry(k.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            f.count = f.count.saturating_add(1);
            f.last = now;
        }
    }

    /// A successful login clears the account's count (not the address's: one good
    /// password must not reset a guesser spraying many names from that address).
    pub fn succeeded(&self, account: &(KeyKind, String)) {
        self.table().remove(account);
    }

    /// A slot to check one password in, or `None` when none freed up in time.
    pub async fn hash_slot(&self) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout(self.policy.hash_queue_wait, self.hashes.acquire())
            .await
            .ok()?
            .ok()
    }
}

/// The throttle key of an account name (case-folded: names compare that way at login).
pub fn account_key(name: &str) -> (KeyKind, String) {
    (KeyKind::Account, name.trim().to_lowercase())
}

/// The throttle key of a client address.
pub fn address_key(addr: std::net::IpAddr) -> (KeyKind, String) {
    (KeyKind::Address, addr.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_ceiling() {
        let (b, m) = (Duration::from_secs(2), Duration::from_secs(60));
        let waits: Vec<u64> = (0..10).map(|n| wait_after(n, 3, b, m).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(wait_after(u32::MAX, 3, b, m), m);
    }

    #[test]
    fn a_throttled_name_is_refused_until_its_wait_ran_out_and_unknown_names_alike() {
        let g = LoginGuard::new(LoginPolicy::default());
        let t0 = Instant::now();
        let alice = [account_key("Alice")];
        for _ in 0..3 {
            assert_eq!(g.wait(&alice, t0), Duration::ZERO);
            g.failed(&alice, t0);
        }
        // The fourth failure starts the 2 s wait; case does not dodge it.
        g.failed(&alice, t0);
        assert_eq!(g.wait(&[account_key("alice")], t0), Duration::from_secs(4));
        assert_eq!(
            g.wait(&alice, t0 + Duration::from_secs(1)),
            Duration::from_secs(3)
        );
        assert_eq!(g.wait(&alice, t0 + Duration::from_secs(4)), Duration::ZERO);
        g.succeeded(&alice[0]);
        g.failed(&alice, t0);
        assert_eq!(
            g.wait(&alice, t0),
            Duration::ZERO,
            "success cleared the count"
        );
    }

    #[test]
    fn an_address_is_throttled_across_names() {
        let policy = LoginPolicy {
            free_per_address: 5,
            ..LoginPolicy::default()
        };
        let g = LoginGuard::new(policy);
        let t0 = Instant::now();
        let ip = address_key("10.0.0.7".parse().expect("an address"));
        for i in 0..5 {
            let keys = [account_key(&format!("user{i}")), ip.clone()];
            assert_eq!(g.wait(&keys, t0), Duration::ZERO);
            g.failed(&keys, t0);
        }
        let fresh = [account_key("user99"), ip];
        assert!(g.wait(&fresh, t0) > Duration::ZERO);
        let elsewhere = [
            account_key("user99"),
            address_key("10.0.0.8".parse().expect("an address")),
        ];
        assert_eq!(g.wait(&elsewhere, t0), Duration::ZERO);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_cap_of_password_checks_run_at_once() {
        let g = Arc::new(LoginGuard::new(LoginPolicy {
            concurrent_hashes: 3,
            ..LoginPolicy::default()
        }));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (g, running, peak) = (g.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    let _slot = g.hash_slot().await.expect("a slot within 10 s");
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_burst_that_waits_too_long_for_a_slot_is_refused() {
        let g = LoginGuard::new(LoginPolicy {
            concurrent_hashes: 1,
            hash_queue_wait: Duration::from_millis(50),
            ..LoginPolicy::default()
        });
        let held = g.hash_slot().await.expect("the one slot");
        assert!(g.hash_slot().await.is_none());
        drop(held);
        assert!(g.hash_slot().await.is_some());
    }
}
