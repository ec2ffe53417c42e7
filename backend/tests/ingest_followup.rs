//! A submitted run's follow-up job (detection for main-branch runs, the baseline
//! comparison for pull-request runs) is written in the run's own transaction; on
//! SQLite the runs written together share one detection job per project. Whatever the
//! batching, every stored run's work is queued exactly as before: detection over every
//! series of every stored main-branch run in the project's one queued job, one
//! comparison job per stored pull-request run, nothing for duplicates or refused runs.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::BTreeSet;

use perfwatch_backend::followup::{CompareJob, DetectJob, FollowUps};
use perfwatch_backend::ingest::ingest_run_deferred;
use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::validate::{parse_run_json, validate_run, ValidRun};
use serde_json::json;

perfwatch_backend::on_both!(concurrent_runs_queue_exactly_their_follow_up_work);

/// Run `i`: two benchmarks every run has and one of its own, so the detection job
/// must join series that only some runs of a batch carry.
fn run(project: &str, i: usize, branch: Option<&str>, key: &str) -> ValidRun {
    let results: Vec<_> = ["Common0".to_string(), "Common1".into(), format!("Own{i}")]
        .iter()
        .map(|b| json!({"benchmark": b, "measure": "time", "unit": "ns", "samples": [100.0 + i as f64, 101.0]}))
        .collect();
    let mut body = json!({
        "project": project,
        "commit": {"sha": format!("{i:040x}")},
        "testbed": "box",
        "run_key": key,
        "results": results,
    });
    if let Some(b) = branch {
        body["branch"] = json!(b);
    }
    validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap()
}

async fn concurrent_runs_queue_exactly_their_follow_up_work(store: Store) {
    store
        .create_project(&NewProject {
            slug: "fu".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let followups = FollowUps::new(store.clone());
    // 45 submissions at once: 25 main-branch runs, 10 pull-request runs, 5 repeats of
    // main-branch run keys, 5 to a project that does not exist.
    let mut tasks = Vec::new();
    for i in 0..45 {
        let r = match i {
            0..25 => run("fu", i, None, &format!("main-{i}")),
            25..35 => run("fu", i, Some("feature"), &format!("pr-{i}")),
            35..40 => run("fu", i - 35, None, &format!("main-{}", i - 35)),
            _ => run("nope", i, None, &format!("nope-{i}")),
        };
        let (store, followups) = (store.clone(), followups.clone());
        tasks.push(tokio::spawn(async move {
            ingest_run_deferred(&store, &r, &IngestOptions::default(), &followups).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let mut main_series = BTreeSet::new();
    let mut pr_runs = BTreeSet::new();
    let mut stored = Vec::new();
    for (i, answer) in answers.iter().enumerate() {
        if i >= 40 {
            assert!(answer.is_err(), "submission {i} to an unknown project");
            continue;
        }
        let a = answer.as_ref().unwrap();
        // A key submitted twice at once: either submission may store it, the other
        // is told it is a duplicate of that same run.
        let twin = match i {
            0..5 => Some(i + 35),
            35..40 => Some(i - 35),
            _ => None,
        };
        if let Some(t) = twin {
            let b = answers[t].as_ref().unwrap();
            assert_eq!(a.run_id, b.run_id, "submissions {i} and {t}");
            assert_ne!(a.duplicate, b.duplicate, "submissions {i} and {t}");
            if a.duplicate {
                continue;
            }
        }
        let run_index = if i >= 35 { i - 35 } else { i };
        stored.push((run_index, a.run_id));
        if run_index < 25 {
            main_series.extend(a.series_ids.iter().copied());
        } else {
            pr_runs.insert(a.run_id);
        }
    }
    assert_eq!(stored.len(), 35, "every run stored once");
    assert_eq!(
        main_series.len(),
        2 + 25,
        "two shared series and one per run"
    );

    // Rows written together (SQLite) or alone land in their own run, bit for bit.
    for (i, run_id) in stored {
        let detail = store.run_detail(run_id).await.unwrap();
        let mut got: Vec<(String, Vec<u64>)> = detail
            .measurements
            .iter()
            .map(|m| {
                let bits = m.samples.iter().map(|v| v.to_bits()).collect();
                (m.series.benchmark.clone(), bits)
            })
            .collect();
        got.sort();
        let bits = vec![(100.0 + i as f64).to_bits(), 101.0f64.to_bits()];
        let mut want: Vec<(String, Vec<u64>)> =
            ["Common0".to_string(), "Common1".into(), format!("Own{i}")]
                .into_iter()
                .map(|b| (b, bits.clone()))
                .collect();
        want.sort();
        assert_eq!(got, want, "run {i}");
    }

    let queued = store.queue_jobs(JobState::Queued, 1000).await.unwrap();
    let detect: Vec<DetectJob> = queued
        .iter()
        .filter(|j| j.kind == kinds::DETECT)
        .map(|j| serde_json::from_str(&j.payload).unwrap())
        .collect();
    assert_eq!(detect.len(), 1, "one coalesced detection job: {detect:?}");
    assert_eq!(detect[0].project, "fu");
    // The pull-request runs' own series are not detected (they are not on main).
    assert_eq!(detect[0].series, main_series);
    let compared: BTreeSet<i64> = queued
        .iter()
        .filter(|j| j.kind == kinds::COMPARE)
        .map(|j| {
            serde_json::from_str::<CompareJob>(&j.payload)
                .unwrap()
                .run_id
        })
        .collect();
    assert_eq!(compared, pr_runs, "one comparison job per pull-request run");
    assert_eq!(
        queued.len(),
        1 + pr_runs.len(),
        "no other job: {:?}",
        queued.iter().map(|j| &j.kind).collect::<Vec<_>>()
    );
}
