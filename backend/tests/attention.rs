//! What needs attention, the open-alert badges and the compare picker's branches,
//! through the store on a fresh SQLite file and a fresh PostgreSQL database
//! (TEST_DATABASE_URL must be set; the PostgreSQL variants fail without it).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::accounts::{Actor, Role};
use perfwatch_backend::attention::attention;
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::perf_jobs::{Fence, NewPerfJob, PerfState, Purpose};
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::alerts::{AlertDirection, TriageState};
use perfwatch_core::model::{AnnotationInput, AnnotationKind};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::{json, Value};

perfwatch_backend::on_both!(
    attention_counts_untriaged_groups_release_verdict_and_jobs,
    open_alerts_follow_triage_and_branches_order_by_last_run,
);

fn sha(i: usize) -> String {
    format!("{:040x}", 0xabc000 + i)
}

async fn submit(store: &Store, run: Value) {
    let run = parse_run_json(run.to_string().as_bytes()).expect("parse");
    let run = validate_run(run).expect("valid");
    ingest_run(store, &run, &IngestOptions::default())
        .await
        .expect("ingest");
}

/// Five samples around `level` (±0.4 %), so two releases compare with confidence.
fn samples(level: f64, i: usize) -> Vec<f64> {
    (0..5)
        .map(|k| level * (1.0 + 0.002 * (((i * 3 + k * 7) % 5) as f64 - 2.0)))
        .collect()
}

/// 60 main commits: `insert` 20 % slower from commit 31, `find` flat; release v1 at
/// commit 10 and v2 at commit 50; one run each on `feature/x` and `pull/7` later.
async fn seed(store: &Store) -> i64 {
    let id = store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
    for i in 1..=60 {
        let insert = if i < 31 { 100.0 } else { 120.0 };
        submit(
            store,
            json!({
                "project": "drv",
                "commit": {"sha": sha(i)},
                "started_at": format!("2026-01-01T{:02}:{:02}:00Z", i / 60, i % 60),
                "results": [
                    {"benchmark": "insert", "measure": "time", "unit": "ns", "samples": samples(insert, i)},
                    {"benchmark": "find", "measure": "time", "unit": "ns", "samples": samples(50.0, i)},
                ],
            }),
        )
        .await;
    }
    for (branch, at, n) in [
        ("feature/x", "2026-01-02T10:00:00Z", 61),
        ("pull/7", "2026-01-03T10:00:00Z", 62),
    ] {
        submit(
            store,
            json!({
                "project": "drv", "branch": branch,
                "commit": {"sha": sha(n), "parent": sha(60)},
                "started_at": at,
                "results": [{"benchmark": "insert", "measure": "time", "unit": "ns", "samples": samples(120.0, n)}],
            }),
        )
        .await;
    }
    for (name, i) in [("v1", 10), ("v2", 50)] {
        store
            .add_annotation(&AnnotationInput {
                project: "drv".into(),
                name: name.into(),
                kind: AnnotationKind::Release,
                commit: Some(sha(i)),
                time: None,
                description: None,
            })
            .await
            .expect("release");
    }
    id
}

async fn attention_counts_untriaged_groups_release_verdict_and_jobs(store: Store) {
    let project_id = seed(&store).await;
    // A second project with nothing going on.
    store
        .create_project(&NewProject {
            slug: "calm".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let groups = store.alert_group_ids(project_id).await.unwrap();
    assert_eq!(groups.len(), 1, "one suspect push, one group");
    let g = store.alert_group(groups[0]).await.unwrap();

    let a = attention(&store).await.unwrap();
    let drv = a.projects.iter().find(|p| p.slug == "drv").unwrap();
    assert_eq!(drv.untriaged.groups, 1);
    let largest = drv.untriaged.largest.as_ref().unwrap();
    assert_eq!(largest.group_id, g.id);
    assert_eq!(largest.direction, AlertDirection::Regression);
    assert!((largest.change_pct - 20.0).abs() < 2.0, "{largest:?}");
    assert_eq!(drv.untriaged.oldest_at, Some(g.created_at));
    let r = drv.release.as_ref().unwrap();
    assert_eq!((r.name.as_str(), r.previous.as_deref()), ("v2", Some("v1")));
    assert_eq!(r.verdict, "regressed", "{r:?}");
    assert_eq!((r.regressions, r.improvements), (1, 0));
    assert_eq!(
        r.link,
        "/projects/drv/compare?base=release%3Av1&head=release%3Av2"
    );
    assert!(drv.running.is_empty() && drv.failed.is_empty());
    assert!(drv.needs_attention());
    let calm = a.projects.iter().find(|p| p.slug == "calm").unwrap();
    assert!(!calm.needs_attention() && calm.release.is_none());

    // A running and a failed job show; a queued one does not.
    let job = |n: usize, pr: Option<i64>| NewPerfJob {
        project_id,
        purpose: if pr.is_some() {
            Purpose::Pr
        } else {
            Purpose::Master
        },
        sha: sha(n),
        branch: None,
        head_ref: None,
        pr_number: pr,
        base_sha: None,
        repeats: 0,
        requested_by: "test".into(),
    };
    let now = perfwatch_backend::time::now_ms();
    let (queued, _) = store
        .perf_job_create(&job(60, None), false, now)
        .await
        .unwrap();
    let (running, _) = store
        .perf_job_create(&job(62, Some(7)), false, now)
        .await
        .unwrap();
    let (failed, _) = store
        .perf_job_create(&job(59, None), true, now)
        .await
        .unwrap();
    let runner = perfwatch_backend::queue::Queue::new(
        store.clone(),
        "w",
        std::time::Duration::from_secs(600),
    );
    // Claim every work item, then start and end the jobs by their leases (one at a
    // time: the project's concurrency may be 1).
    let mut leases = Vec::new();
    while let Some(lease) = runner
        .claim(&[perfwatch_backend::queue::kinds::PERF_RUN])
        .await
        .unwrap()
    {
        leases.push(lease);
    }
    let fence_of = |id: i64| {
        let store = store.clone();
        let leases = &leases;
        async move {
            let work = store
                .perf_job(id)
                .await
                .unwrap()
                .work_id
                .expect("a work item");
            let l = leases.iter().find(|l| l.job_id == work).expect("claimed");
            Fence {
                work_id: l.job_id,
                fence: l.fence,
            }
        }
    };
    let f_failed = fence_of(failed).await;
    assert!(store.perf_job_start(failed, f_failed, now).await.unwrap());
    assert!(store
        .perf_job_end(
            failed,
            f_failed,
            PerfState::Failed,
            Some(("permanent", "build failed")),
            &perfwatch_backend::queue::Finish::Dead {
                error: "build failed".into()
            },
            &[],
            now,
        )
        .await
        .unwrap());
    let f_running = fence_of(running).await;
    assert!(store.perf_job_start(running, f_running, now).await.unwrap());
    let a = attention(&store).await.unwrap();
    let drv = a.projects.iter().find(|p| p.slug == "drv").unwrap();
    assert_eq!(
        drv.running.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![running]
    );
    assert!(
        drv.running[0].label.starts_with("PR #7 "),
        "{:?}",
        drv.running
    );
    assert_eq!(
        drv.failed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![failed]
    );
    assert!(!drv
        .running
        .iter()
        .chain(&drv.failed)
        .any(|j| j.id == queued));
}

async fn open_alerts_follow_triage_and_branches_order_by_last_run(store: Store) {
    let project_id = seed(&store).await;
    let alerts = perfwatch_backend::testing::seed::alerts(&store, "drv").await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let series = alerts[0].series.id;
    let gid = alerts[0].group_id.unwrap();
    assert_eq!(
        store.series_with_open_alerts(project_id).await.unwrap(),
        vec![series]
    );

    perfwatch_backend::accounts::create_user(
        &store,
        "ana",
        "correct horse battery",
        Some(Role::Admin),
    )
    .await
    .unwrap();
    let ana = Actor::User(store.user_by_name("ana").await.unwrap());
    perfwatch_backend::triage::set_group_state(&store, &ana, gid, TriageState::Acknowledged, None)
        .await
        .unwrap();
    assert!(store
        .untriaged_group_alerts(project_id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.series_with_open_alerts(project_id).await.unwrap(),
        vec![series],
        "acknowledged is still open"
    );
    perfwatch_backend::triage::set_group_state(
        &store,
        &ana,
        gid,
        TriageState::Fixed,
        Some(sha(40)),
    )
    .await
    .unwrap();
    assert!(store
        .series_with_open_alerts(project_id)
        .await
        .unwrap()
        .is_empty());
    perfwatch_backend::triage::set_group_state(&store, &ana, gid, TriageState::Untriaged, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .untriaged_group_alerts(project_id)
            .await
            .unwrap()
            .len(),
        1
    );

    let b = store.recent_branches(project_id, 10).await.unwrap();
    let names: Vec<(&str, i64)> = b.iter().map(|b| (b.name.as_str(), b.runs)).collect();
    assert_eq!(names, vec![("pull/7", 1), ("feature/x", 1), ("main", 60)]);
    assert!(b[0].last_run_at > b[1].last_run_at);
    assert_eq!(store.recent_branches(project_id, 1).await.unwrap().len(), 1);
}
