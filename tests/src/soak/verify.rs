//! The checks after the load: every acknowledged run stored exactly once, every pushed
//! commit's job finished exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perfwatch_backend::Store;

use super::load::{soak_run, Shared, JOBS_PROJECT, PROJECT};
use super::repo::JobRepo;
use super::JobCounts;

/// Every acknowledged run is in the database exactly once, under its key and with the
/// id its receipt gave; nothing else is.
pub async fn runs_in_db(s: &Shared, store: &Store) -> anyhow::Result<()> {
    let mut stored: HashMap<String, (i64, i64)> =
        perfwatch_backend::testing::rows::run_keys(store, PROJECT).await?;
    let acked = s.acked.lock().unwrap().clone();
    for (n, id) in &acked {
        match stored.remove(&format!("soak-{n}")) {
            Some((1, got)) if got == *id => {}
            other => s.rec.violation(format!(
                "acknowledged run soak-{n} (id {id}) stored as (count, id) {other:?}"
            )),
        }
    }
    if !stored.is_empty() {
        s.rec.violation(format!(
            "{} runs stored that were never acknowledged, e.g. {:?}",
            stored.len(),
            stored.keys().take(3).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// Without database access: every acknowledged run, submitted again, answers 200
/// "duplicate" with the id of its first receipt.
pub async fn runs_by_api(s: &Arc<Shared>) {
    let acked = s.acked.lock().unwrap().clone();
    for chunk in acked.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for &(n, id) in chunk {
            let s = s.clone();
            set.spawn(async move {
                let res = s
                    .http
                    .post(format!("{}/api/v1/runs", s.base))
                    .bearer_auth(&s.token)
                    .json(&soak_run(n))
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) if r.status() == 200 => r
                        .json::<serde_json::Value>()
                        .await
                        .is_ok_and(|v| v["duplicate"] == true && v["run_id"] == id),
                    _ => false,
                };
                if !ok {
                    s.rec.violation(format!(
                        "acknowledged run soak-{n} (id {id}) not found as a duplicate"
                    ));
                }
            });
        }
        while set.join_next().await.is_some() {}
    }
}

/// Waits (at most 3 minutes) for the job of every pushed commit to end; each commit has
/// exactly one job, processed, whose bench step ran exactly once.
pub async fn jobs(s: &Shared, store: &Store, repo: &JobRepo) -> JobCounts {
    let pushed = s.pushed.lock().unwrap().clone();
    let project = match store.project(JOBS_PROJECT).await {
        Ok(p) => p.id,
        Err(e) => {
            s.rec.violation(format!("jobs project: {e}"));
            return JobCounts::default();
        }
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    let jobs = loop {
        let jobs = store
            .perf_jobs(Some(project), None, &[], 100_000)
            .await
            .unwrap_or_default();
        let ended = pushed
            .iter()
            .all(|sha| jobs.iter().any(|j| &j.sha == sha && j.state.is_final()));
        if ended || Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut counts = JobCounts {
        pushed: pushed.len(),
        ..Default::default()
    };
    for sha in &pushed {
        let mine: Vec<_> = jobs.iter().filter(|j| &j.sha == sha).collect();
        let state = mine
            .first()
            .map(|j| serde_json::to_value(j.state).unwrap_or_default())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "missing".into());
        if state == "processed" {
            counts.processed += 1;
        } else {
            *counts.other.entry(state.clone()).or_default() += 1;
        }
        let ran = repo.executions(sha);
        if mine.len() != 1 || state != "processed" || ran != 1 {
            s.rec.violation(format!(
                "pushed commit {sha}: {} jobs, state {state}, bench ran {ran} times (want 1, processed, 1)",
                mine.len()
            ));
        }
    }
    counts
}
