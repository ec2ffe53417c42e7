//! The work queue's contract, every case on SQLite and on PostgreSQL: claim, lease
//! expiry and takeover, fencing, dead after the last attempt, backoff, priority order,
//! concurrent claimers. Time is a manual clock, so nothing sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::HashSet;
use std::time::Duration;

use perfwatch_backend::queue::{Clock, Gather, JobFailure, JobState, NewJob, Queue, QueueError};
use perfwatch_backend::testing::{fresh_database, fresh_store, Db};
use perfwatch_backend::Store;

const T0: i64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_millis(1_000);

fn job(kind: &str, priority: i64, max_attempts: i64, backoff_ms: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: r#"{"n":1}"#.into(),
        priority,
        not_before: T0,
        max_attempts,
        backoff_ms,
        coalesce_key: None,
    }
}

fn worker(store: &Store, name: &str, clock: &Clock) -> Queue {
    Queue::new(store.clone(), name, LEASE).with_clock(clock.clone())
}

async fn claim_leases_the_job_to_one_worker(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let id = store.queue_insert(&job("k", 0, 3, 100), T0).await.unwrap();
    let a = worker(&store, "a", &clock);
    let lease = a.claim(&["k"]).await.unwrap().expect("a due job");
    assert_eq!((lease.job_id, lease.attempt, lease.fence), (id, 1, 1));
    assert_eq!(lease.payload, r#"{"n":1}"#);
    assert_eq!(lease.expires_at, T0 + 1_000);
    assert!(
        a.claim(&["k"]).await.unwrap().is_none(),
        "leased, not claimable"
    );
    assert!(
        a.claim(&["other"]).await.unwrap().is_none(),
        "claims only its kinds"
    );
    let row = store.queue_job(id).await.unwrap();
    assert_eq!(row.state, JobState::Leased);
    assert_eq!(row.lease_owner.as_deref(), Some("a"));
    a.complete(&lease).await.unwrap();
    let row = store.queue_job(id).await.unwrap();
    assert_eq!(row.state, JobState::Done);
    assert_eq!(row.lease_owner, None);
    assert!(a.claim(&["k"]).await.unwrap().is_none(), "done is done");
}

async fn expired_lease_is_taken_over_and_the_stale_worker_refused(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let id = store.queue_insert(&job("k", 0, 3, 100), T0).await.unwrap();
    let (a, b) = (worker(&store, "a", &clock), worker(&store, "b", &clock));
    let old = a.claim(&["k"]).await.unwrap().unwrap();
    clock.advance(600);
    a.heartbeat(&old).await.unwrap();
    clock.advance(600);
    assert!(
        b.claim(&["k"]).await.unwrap().is_none(),
        "the heartbeat extended the lease"
    );
    clock.advance(401);
    let new = b
        .claim(&["k"])
        .await
        .unwrap()
        .expect("expired lease taken over");
    assert_eq!(new.job_id, id);
    assert_eq!(new.fence, old.fence + 1);
    assert_eq!(new.attempt, 2, "the lost attempt counts");
    let stale = |r: Result<(), QueueError>| {
        assert!(
            matches!(r, Err(QueueError::StaleLease { job_id, fence }) if job_id == id && fence == old.fence),
            "{r:?}"
        )
    };
    stale(a.heartbeat(&old).await);
    stale(a.complete(&old).await);
    stale(a.release(&old).await);
    stale(
        a.fail(&old, &JobFailure::Permanent("x".into()))
            .await
            .map(|_| ()),
    );
    let row = store.queue_job(id).await.unwrap();
    assert_eq!(row.state, JobState::Leased);
    assert_eq!(row.lease_owner.as_deref(), Some("b"));
    assert_eq!(row.takeovers, 1);
    b.complete(&new).await.unwrap();
    assert_eq!(store.queue_job(id).await.unwrap().state, JobState::Done);
    assert_eq!(
        store.queue_takeovers().await.unwrap(),
        vec![("k".into(), 1)]
    );
}

async fn job_is_dead_after_its_last_attempt_and_admins_can_requeue_it(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let id = store.queue_insert(&job("k", 0, 3, 100), T0).await.unwrap();
    let w = worker(&store, "w", &clock);
    for attempt in 1..=3 {
        let lease = w.claim(&["k"]).await.unwrap().expect("claimable again");
        assert_eq!(lease.attempt, attempt);
        let state = w
            .fail(&lease, &JobFailure::Retry(format!("boom {attempt}")))
            .await
            .unwrap();
        let want = if attempt < 3 {
            JobState::Queued
        } else {
            JobState::Dead
        };
        assert_eq!(state, want);
        clock.advance(10_000);
    }
    let row = store.queue_job(id).await.unwrap();
    assert_eq!(row.state, JobState::Dead);
    assert_eq!(row.attempts, 3);
    assert_eq!(row.last_error.as_deref(), Some("boom 3"));
    assert!(
        w.claim(&["k"]).await.unwrap().is_none(),
        "dead is not claimed"
    );
    let dead = store.queue_jobs(JobState::Dead, 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert!(store.queue_requeue_dead(id, clock.now_ms()).await.unwrap());
    assert!(!store.queue_requeue_dead(id, clock.now_ms()).await.unwrap());
    let lease = w.claim(&["k"]).await.unwrap().expect("re-queued");
    assert_eq!(lease.attempt, 1, "attempts start over");
    // A permanent failure is dead at once, its attempt counted.
    let state = w
        .fail(&lease, &JobFailure::Permanent("bad payload".into()))
        .await
        .unwrap();
    assert_eq!(state, JobState::Dead);
    let row = store.queue_job(id).await.unwrap();
    assert_eq!((row.state, row.attempts), (JobState::Dead, 1));
}

async fn failed_job_waits_out_an_exponential_backoff(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    store
        .queue_insert(&job("k", 0, 5, 1_000), T0)
        .await
        .unwrap();
    let w = worker(&store, "w", &clock);
    for wait in [1_000, 2_000, 4_000] {
        let lease = w.claim(&["k"]).await.unwrap().expect("due");
        w.fail(&lease, &JobFailure::Retry("down".into()))
            .await
            .unwrap();
        clock.advance(wait - 1);
        assert!(
            w.claim(&["k"]).await.unwrap().is_none(),
            "claimed before its backoff of {wait} ms"
        );
        clock.advance(1);
    }
    assert!(w.claim(&["k"]).await.unwrap().is_some());
    // A job queued for later is not claimed early either.
    let mut later = job("later", 0, 1, 0);
    later.not_before = clock.now_ms() + 5_000;
    store.queue_insert(&later, clock.now_ms()).await.unwrap();
    assert!(w.claim(&["later"]).await.unwrap().is_none());
    clock.advance(5_000);
    assert!(w.claim(&["later"]).await.unwrap().is_some());
}

async fn higher_priority_first_then_oldest(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let mut ids = vec![];
    for (i, p) in [0, 5, 5, 0, 9].into_iter().enumerate() {
        ids.push(
            store
                .queue_insert(&job("k", p, 1, 0), T0 + i as i64)
                .await
                .unwrap(),
        );
    }
    clock.advance(10);
    let w = worker(&store, "w", &clock);
    let mut order = vec![];
    while let Some(l) = w.claim(&["k"]).await.unwrap() {
        order.push(l.job_id);
    }
    assert_eq!(order, vec![ids[4], ids[1], ids[2], ids[0], ids[3]]);
}

async fn released_job_is_claimable_at_once_without_counting_the_attempt(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let id = store.queue_insert(&job("k", 0, 2, 100), T0).await.unwrap();
    let (a, b) = (worker(&store, "a", &clock), worker(&store, "b", &clock));
    let lease = a.claim(&["k"]).await.unwrap().unwrap();
    a.release(&lease).await.unwrap();
    let row = store.queue_job(id).await.unwrap();
    assert_eq!(
        (row.state, row.attempts, row.lease_owner),
        (JobState::Queued, 0, None)
    );
    let again = b.claim(&["k"]).await.unwrap().expect("claimable at once");
    assert_eq!(again.attempt, 1);
}

async fn coalesced_jobs_merge_while_queued(db: Db) {
    let store = fresh_store(db).await;
    let clock = Clock::manual(T0);
    let mut j = job("k", 0, 1, 0);
    j.coalesce_key = Some("detect:p".into());
    let merge = |add: &'static str| {
        move |old: &str| Ok::<_, perfwatch_backend::StoreError>(format!("{old}+{add}"))
    };
    j.payload = "a".into();
    let first = store
        .queue_enqueue_coalesced(&j, T0, merge("a"))
        .await
        .unwrap();
    let second = store
        .queue_enqueue_coalesced(&j, T0, merge("b"))
        .await
        .unwrap();
    assert_eq!(first, second, "one queued job per key");
    assert_eq!(store.queue_job(first).await.unwrap().payload, "a+b");
    let w = worker(&store, "w", &clock);
    w.claim(&["k"]).await.unwrap().unwrap();
    j.payload = "c".into();
    let third = store
        .queue_enqueue_coalesced(&j, T0, merge("c"))
        .await
        .unwrap();
    assert_ne!(third, first, "a claimed job is not merged into");
    assert_eq!(store.queue_job(third).await.unwrap().payload, "c");
    let depth = store.queue_depth().await.unwrap();
    let got: Vec<(JobState, i64)> = depth.iter().map(|d| (d.state, d.jobs)).collect();
    assert_eq!(got, vec![(JobState::Leased, 1), (JobState::Queued, 1)]);
    assert_eq!(depth[0].oldest_created_at, T0);
}

/// A gathering job (detection during a burst of runs) starts once the burst has been
/// quiet for its wait, or `max_ms` after it was queued while merges keep coming; a
/// merge writes the start only when it is less than half the wait away.
async fn gathering_jobs_wait_for_the_end_of_a_burst(db: Db) {
    let store = fresh_store(db).await;
    const WAIT: i64 = 500;
    let gather = Gather::Until { max_ms: 10_000 };
    let keep = |old: &str| Ok::<_, perfwatch_backend::StoreError>(old.to_string());
    let mut j = job("k", 0, 1, 0);
    j.coalesce_key = Some("detect:p".into());
    let at = |now: i64| NewJob {
        not_before: now + WAIT,
        ..j.clone()
    };
    let id = store
        .queue_enqueue_gathering(&at(T0), T0, gather, keep)
        .await
        .unwrap();
    let start = |store: &Store| {
        let store = store.clone();
        async move { store.queue_job(id).await.unwrap().not_before }
    };
    assert_eq!(start(&store).await, T0 + WAIT);
    // 100 ms later the start is 400 ms away (more than half the wait): unchanged.
    store
        .queue_enqueue_gathering(&at(T0 + 100), T0 + 100, gather, keep)
        .await
        .unwrap();
    assert_eq!(start(&store).await, T0 + WAIT);
    // 300 ms later it is 200 ms away: moved to a full wait after this merge.
    store
        .queue_enqueue_gathering(&at(T0 + 300), T0 + 300, gather, keep)
        .await
        .unwrap();
    assert_eq!(start(&store).await, T0 + 300 + WAIT);
    // A job whose merges never stop starts at most 10 s after it was queued.
    for now in (T0 + 400..T0 + 20_000).step_by(100) {
        let again = store
            .queue_enqueue_gathering(&at(now), now, gather, keep)
            .await
            .unwrap();
        assert_eq!(again, id, "one queued job");
    }
    assert_eq!(start(&store).await, T0 + 10_000);
    let w = worker(&store, "w", &Clock::manual(T0 + 9_999));
    assert!(w.claim(&["k"]).await.unwrap().is_none(), "not due yet");
    let w = worker(&store, "w", &Clock::manual(T0 + 10_000));
    assert_eq!(w.claim(&["k"]).await.unwrap().unwrap().job_id, id);
    // A plain coalesced job keeps its start whatever merges into it.
    let mut s = job("s", 0, 1, 0);
    s.coalesce_key = Some("schedule:1".into());
    let sid = store.queue_enqueue_coalesced(&s, T0, keep).await.unwrap();
    s.not_before = T0 + 5_000;
    store
        .queue_enqueue_coalesced(&s, T0 + 4_900, keep)
        .await
        .unwrap();
    assert_eq!(store.queue_job(sid).await.unwrap().not_before, T0);
}

/// Several claimers, each with its own connections to the database (as separate
/// server processes would have), drain many jobs: each job is claimed exactly once.
async fn concurrent_claimers_never_share_a_job(db: Db) {
    let (url, _) = fresh_database(db).await;
    let store = Store::connect(&url).await.unwrap();
    const JOBS: usize = 200;
    for _ in 0..JOBS {
        store.queue_insert(&job("k", 0, 1, 0), T0).await.unwrap();
    }
    let clock = Clock::manual(T0 + 1);
    let mut tasks = vec![];
    for i in 0..4 {
        let s = Store::connect(&url).await.unwrap();
        let w = worker(&s, &format!("w{i}"), &clock);
        tasks.push(tokio::spawn(async move {
            let mut got = vec![];
            while let Some(l) = w.claim(&["k"]).await.unwrap() {
                got.push(l.job_id);
                w.complete(&l).await.unwrap();
            }
            got
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), JOBS, "every job claimed once");
    assert_eq!(unique.len(), JOBS, "no job claimed twice");
    let done = store.queue_jobs(JobState::Done, 1000).await.unwrap();
    assert_eq!(done.len(), JOBS);
}

perfwatch_backend::on_both!(
    db, multi_thread:
    claim_leases_the_job_to_one_worker,
    expired_lease_is_taken_over_and_the_stale_worker_refused,
    job_is_dead_after_its_last_attempt_and_admins_can_requeue_it,
    failed_job_waits_out_an_exponential_backoff,
    higher_priority_first_then_oldest,
    released_job_is_claimable_at_once_without_counting_the_attempt,
    coalesced_jobs_merge_while_queued,
    gathering_jobs_wait_for_the_end_of_a_burst,
    concurrent_claimers_never_share_a_job,
);

#[test]
fn unknown_state_text_is_an_error_naming_table_and_column() {
    let e = JobState::from_db("paused").unwrap_err().to_string();
    assert!(
        e.contains("work_queue.state") && e.contains("paused"),
        "{e}"
    );
}
