//! The contract of performance jobs in the store, every case on SQLite and on
//! PostgreSQL: replay-proof creation, priorities (master before PRs), supersede of a
//! PR's older jobs (never of master jobs), cancel, fenced writes (a worker whose lease
//! was taken over is refused), waiting for a baseline, and the execute → store split.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use perfwatch_backend::queue::{kinds, Clock, Finish, NewJob, Queue};
use perfwatch_backend::store::perf_jobs::{Fence, NewPerfJob, PerfState, Purpose};
use perfwatch_backend::store::NewProject;
use perfwatch_backend::testing::{fresh_store, Db};
use perfwatch_backend::Store;

const T0: i64 = 1_800_000_000_000;

async fn project(store: &Store) -> i64 {
    store
        .create_project(&NewProject {
            slug: "svc".into(),
            name: Some("svc".into()),
            main_branch: Some("master".into()),
            repo_url: None,
        })
        .await
        .unwrap()
}

fn job(project_id: i64, purpose: Purpose, sha: &str, pr: Option<i64>) -> NewPerfJob {
    NewPerfJob {
        project_id,
        purpose,
        sha: sha.into(),
        branch: Some(if pr.is_some() { "feature" } else { "master" }.into()),
        head_ref: None,
        pr_number: pr,
        base_sha: pr.map(|_| "a".repeat(40)),
        repeats: 0,
        requested_by: "test".into(),
    }
}

fn runner(store: &Store, name: &str, clock: &Clock) -> Queue {
    Queue::new(store.clone(), name, Duration::from_millis(1_000)).with_clock(clock.clone())
}

async fn creation_is_replay_proof_and_master_goes_first(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let (pr_id, created) = store
        .perf_job_create(&job(p, Purpose::Pr, &"b".repeat(40), Some(7)), false, T0)
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .perf_job_create(&job(p, Purpose::Pr, &"b".repeat(40), Some(7)), false, T0)
        .await
        .unwrap();
    assert_eq!(
        (again, created),
        (pr_id, false),
        "the same head asks again: no new job"
    );
    let (master, _) = store
        .perf_job_create(
            &job(p, Purpose::Master, &"c".repeat(40), None),
            false,
            T0 + 1,
        )
        .await
        .unwrap();
    let clock = Clock::manual(T0 + 10);
    let lease = runner(&store, "r", &clock)
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(
        lease.payload,
        format!(r#"{{"job":{master}}}"#),
        "the younger master job is claimed before the older PR job"
    );
    let listed = store.perf_jobs(Some(p), None, &[], 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(store.perf_queue_order().await.unwrap()[0].id, master);
}

async fn a_new_head_supersedes_queued_and_stops_running_but_never_master(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (master, _) = store
        .perf_job_create(&job(p, Purpose::Master, &"c".repeat(40), None), false, T0)
        .await
        .unwrap();
    let (first, _) = store
        .perf_job_create(&job(p, Purpose::Pr, &"1".repeat(40), Some(9)), false, T0)
        .await
        .unwrap();
    // The master job runs; then the PR's first job runs on a second slot.
    let r = runner(&store, "r", &clock);
    let m = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let mf = Fence {
        work_id: m.job_id,
        fence: m.fence,
    };
    assert!(store.perf_job_start(master, mf, T0).await.unwrap());
    let l = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let f = Fence {
        work_id: l.job_id,
        fence: l.fence,
    };
    assert!(store.perf_job_start(first, f, T0).await.unwrap());
    let (second, _) = store
        .perf_job_create(
            &job(p, Purpose::Pr, &"2".repeat(40), Some(9)),
            false,
            T0 + 1,
        )
        .await
        .unwrap();
    let (third, _) = store
        .perf_job_create(
            &job(p, Purpose::Pr, &"3".repeat(40), Some(9)),
            false,
            T0 + 2,
        )
        .await
        .unwrap();
    assert!(
        store
            .perf_job_stop_requested(first)
            .await
            .unwrap()
            .unwrap()
            .starts_with("superseded"),
        "the running job is asked to stop"
    );
    assert_eq!(
        store.perf_job(second).await.unwrap().state,
        PerfState::Superseded
    );
    assert_eq!(
        store.perf_job(third).await.unwrap().state,
        PerfState::Queued
    );
    assert_eq!(
        store.perf_job(master).await.unwrap().state,
        PerfState::Running
    );
    assert_eq!(store.perf_job_stop_requested(master).await.unwrap(), None);
    // The superseded job's work item is gone from the queue: the next claim is `third`.
    clock.advance(10);
    let next = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    assert_eq!(next.payload, format!(r#"{{"job":{third}}}"#));
    // Closing the PR cancels what is left; master stays.
    let n = store
        .perf_jobs_cancel_pr(p, 9, "closed", T0 + 3)
        .await
        .unwrap();
    assert!(n >= 1);
    assert_eq!(
        store.perf_job(master).await.unwrap().state,
        PerfState::Running
    );
}

async fn a_taken_over_worker_is_refused(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (id, _) = store
        .perf_job_create(&job(p, Purpose::Manual, &"d".repeat(40), None), false, T0)
        .await
        .unwrap();
    let a = runner(&store, "a", &clock)
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .unwrap();
    let old = Fence {
        work_id: a.job_id,
        fence: a.fence,
    };
    assert!(store.perf_job_start(id, old, T0).await.unwrap());
    let line = |t: &str| vec![("load".to_string(), "stdout".to_string(), t.to_string(), T0)];
    assert!(store
        .perf_job_log_append(id, old, &line("one"))
        .await
        .unwrap());
    // a's lease expires (it was killed); b takes the job over.
    clock.advance(1_500);
    let b = runner(&store, "b", &clock)
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.job_id, a.job_id);
    let new = Fence {
        work_id: b.job_id,
        fence: b.fence,
    };
    assert!(store.perf_job_start(id, new, T0 + 1_500).await.unwrap());
    assert!(
        !store
            .perf_job_log_append(id, old, &line("stale"))
            .await
            .unwrap(),
        "stale log refused"
    );
    let then = NewJob {
        kind: kinds::PERF_STORE.into(),
        payload: format!(r#"{{"job":{id}}}"#),
        priority: 0,
        not_before: T0,
        max_attempts: 1,
        backoff_ms: 0,
        coalesce_key: None,
    };
    assert!(
        !store
            .perf_job_executed(id, old, "{}", "h", None, &then, T0 + 2_000)
            .await
            .unwrap(),
        "the stale worker's output is refused"
    );
    assert!(store
        .perf_job_executed(id, new, "{}", "h", Some("tb"), &then, T0 + 2_000)
        .await
        .unwrap());
    let row = store.perf_job(id).await.unwrap();
    assert_eq!(row.state, PerfState::Completed);
    assert_eq!(row.definition_hash.as_deref(), Some("h"));
    let log = store.perf_job_logs(id, 0, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
        ["one"]
    );
    // The storing step is its own work item; processing ends it with the reports.
    let s = runner(&store, "s", &clock)
        .claim(&[kinds::PERF_STORE])
        .await
        .unwrap()
        .unwrap();
    let sf = Fence {
        work_id: s.job_id,
        fence: s.fence,
    };
    assert!(store
        .perf_job_processed(id, sf, &[1, 2], "no change", "report", &[], T0 + 3_000)
        .await
        .unwrap());
    let row = store.perf_job(id).await.unwrap();
    assert_eq!(
        (row.state, row.run_ids.clone()),
        (PerfState::Processed, vec![1, 2])
    );
    assert!(
        !store
            .perf_job_processed(id, sf, &[3], "x", "y", &[], T0 + 4_000)
            .await
            .unwrap(),
        "only once"
    );
}

async fn waiting_for_a_baseline_costs_no_attempt(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (id, _) = store
        .perf_job_create(&job(p, Purpose::Pr, &"e".repeat(40), Some(3)), false, T0)
        .await
        .unwrap();
    let r = runner(&store, "r", &clock);
    let l = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let f = Fence {
        work_id: l.job_id,
        fence: l.fence,
    };
    assert!(store.perf_job_start(id, f, T0).await.unwrap());
    let (backfill, _) = store
        .perf_job_create(&job(p, Purpose::Backfill, &"a".repeat(40), None), false, T0)
        .await
        .unwrap();
    assert!(store
        .perf_job_defer(id, f, backfill, T0 + 5_000, T0)
        .await
        .unwrap());
    let row = store.perf_job(id).await.unwrap();
    assert_eq!(
        (row.state, row.waits_for),
        (PerfState::Queued, Some(backfill))
    );
    let next = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    assert_eq!(
        next.payload,
        format!(r#"{{"job":{backfill}}}"#),
        "the baseline runs first"
    );
    assert_eq!(
        store.perf_master_pending(p, &"a".repeat(40)).await.unwrap(),
        Some(backfill)
    );
    r.complete(&next).await.unwrap();
    clock.advance(5_000);
    let again = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    assert_eq!(again.job_id, l.job_id);
    assert_eq!(again.attempt, 1, "deferring did not count an attempt");
    // A failure with attempts left sends the job back to the queue with its error.
    let f2 = Fence {
        work_id: again.job_id,
        fence: again.fence,
    };
    let retry = Finish::Retry {
        not_before: T0 + 9_000,
        error: "git fetch".into(),
    };
    assert!(store
        .perf_job_end(
            id,
            f2,
            PerfState::Queued,
            Some(("transient", "git fetch")),
            &retry,
            &[],
            T0 + 5_000
        )
        .await
        .unwrap());
    let row = store.perf_job(id).await.unwrap();
    assert_eq!(
        (row.state, row.error_class.as_deref()),
        (PerfState::Queued, Some("transient"))
    );
}

async fn a_dead_job_put_back_by_an_admin_runs_again(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (id, _) = store
        .perf_job_create(&job(p, Purpose::Master, &"f".repeat(40), None), false, T0)
        .await
        .unwrap();
    let r = runner(&store, "r", &clock);
    let l = r.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let f = Fence {
        work_id: l.job_id,
        fence: l.fence,
    };
    assert!(store.perf_job_start(id, f, T0).await.unwrap());
    let dead = Finish::Dead {
        error: "git unreachable".into(),
    };
    assert!(store
        .perf_job_end(
            id,
            f,
            PerfState::Dead,
            Some(("transient", "git unreachable")),
            &dead,
            &[],
            T0
        )
        .await
        .unwrap());
    assert_eq!(store.perf_job(id).await.unwrap().state, PerfState::Dead);
    assert!(store.queue_requeue_dead(l.job_id, T0).await.unwrap());
    let again = r
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .expect("re-queued");
    let f2 = Fence {
        work_id: again.job_id,
        fence: again.fence,
    };
    assert!(
        store.perf_job_start(id, f2, T0).await.unwrap(),
        "the dead job runs again"
    );
    assert_eq!(store.perf_job(id).await.unwrap().state, PerfState::Running);
}

async fn a_project_runs_at_most_its_concurrency(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (a, _) = store
        .perf_job_create(&job(p, Purpose::Master, &"1".repeat(40), None), false, T0)
        .await
        .unwrap();
    let (b, _) = store
        .perf_job_create(&job(p, Purpose::Master, &"2".repeat(40), None), false, T0)
        .await
        .unwrap();
    let r1 = runner(&store, "r1", &clock);
    let r2 = runner(&store, "r2", &clock);
    let l1 = r1.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let l2 = r2.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    let f1 = Fence {
        work_id: l1.job_id,
        fence: l1.fence,
    };
    let f2 = Fence {
        work_id: l2.job_id,
        fence: l2.fence,
    };
    let (first, second) = if l1.payload.contains(&a.to_string()) {
        (a, b)
    } else {
        (b, a)
    };
    assert!(store.perf_job_start_within(first, f1, T0, 1).await.unwrap());
    assert!(
        !store
            .perf_job_start_within(second, f2, T0, 1)
            .await
            .unwrap(),
        "one job of the project is running: the second waits"
    );
    assert!(store.perf_work_later(f2, T0 + 2_000, T0).await.unwrap());
    assert_eq!(
        store.perf_job(second).await.unwrap().state,
        PerfState::Queued
    );
    clock.advance(2_000);
    r1.heartbeat(&l1).await.unwrap(); // the first job is still running
    let again = r2.claim(&[kinds::PERF_RUN]).await.unwrap().unwrap();
    assert_eq!(again.attempt, 1, "waiting cost no attempt");
    let f3 = Fence {
        work_id: again.job_id,
        fence: again.fence,
    };
    assert!(
        store
            .perf_job_start_within(second, f3, T0 + 2_000, 2)
            .await
            .unwrap(),
        "a limit of 2 lets it run"
    );
}

async fn a_job_whose_last_lease_expires_ends_dead(db: Db) {
    let store = fresh_store(db).await;
    let p = project(&store).await;
    let clock = Clock::manual(T0);
    let (id, _) = store
        .perf_job_create(&job(p, Purpose::Manual, &"f".repeat(40), None), false, T0)
        .await
        .unwrap();
    // Three runners in turn claim the job, start it and vanish (killed, machine gone):
    // each lease expires unrenewed.
    let mut now = T0;
    for name in ["a", "b", "c"] {
        let l = runner(&store, name, &clock)
            .claim(&[kinds::PERF_RUN])
            .await
            .unwrap()
            .expect("the expired job is claimable again");
        let f = Fence {
            work_id: l.job_id,
            fence: l.fence,
        };
        assert!(store.perf_job_start(id, f, now).await.unwrap());
        clock.advance(1_500);
        now += 1_500;
    }
    // The sweep buries the last attempt; the job must not show "running" for ever.
    assert_eq!(store.queue_bury_expired(now).await.unwrap(), 1);
    let row = store.perf_job(id).await.unwrap();
    assert_eq!(row.state, PerfState::Dead, "{row:?}");
    assert!(
        row.error.as_deref().unwrap_or("").contains("lease"),
        "{row:?}"
    );
    assert!(runner(&store, "d", &clock)
        .claim(&[kinds::PERF_RUN])
        .await
        .unwrap()
        .is_none());
}

perfwatch_backend::on_both!(
    db:
    creation_is_replay_proof_and_master_goes_first,
    a_new_head_supersedes_queued_and_stops_running_but_never_master,
    a_taken_over_worker_is_refused,
    waiting_for_a_baseline_costs_no_attempt,
    a_dead_job_put_back_by_an_admin_runs_again,
    a_project_runs_at_most_its_concurrency,
    a_job_whose_last_lease_expires_ends_dead,
);
