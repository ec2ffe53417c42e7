//! Admins see dead jobs of the work queue and put them back (`/api/v1/admin/jobs`);
//! nobody else does.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use perfwatch_backend::queue::{JobFailure, JobState, NewJob, Queue};
use perfwatch_server::testing::{spawn_app, Db};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_list_and_requeue_dead_jobs() {
    let app = spawn_app(Db::Sqlite).await;
    let now = perfwatch_backend::time::now_ms();
    let job = NewJob {
        kind: "test.kind".into(),
        payload: r#"{"x":1}"#.into(),
        priority: 0,
        not_before: now,
        max_attempts: 2,
        backoff_ms: 0,
        coalesce_key: None,
    };
    let id = app.store.queue_insert(&job, now).await.unwrap();
    let q = Queue::new(app.store.clone(), "test", Duration::from_secs(30));
    let lease = q.claim(&["test.kind"]).await.unwrap().unwrap();
    q.fail(&lease, &JobFailure::Permanent("bad payload".into()))
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/api/v1/admin/jobs", app.base);
    let anon = c.get(&url).send().await.unwrap().status().as_u16();
    assert!(anon == 401 || anon == 403, "anonymous got {anon}");
    let res = c.get(&url).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let dead: Value = res.json().await.unwrap();
    assert_eq!(dead[0]["id"], id);
    assert_eq!(dead[0]["state"], "dead");
    assert_eq!(dead[0]["last_error"], "bad payload");
    assert_eq!(dead[0]["attempts"], 1);
    let requeue = |id: i64| {
        c.post(format!("{}/api/v1/admin/jobs/{id}/requeue", app.base))
            .bearer_auth(&app.token)
            .send()
    };
    assert_eq!(requeue(id).await.unwrap().status().as_u16(), 204);
    assert_eq!(
        requeue(id).await.unwrap().status().as_u16(),
        409,
        "not dead any more"
    );
    assert_eq!(requeue(999_999).await.unwrap().status().as_u16(), 404);
    let row = app.store.queue_job(id).await.unwrap();
    assert_eq!((row.state, row.attempts), (JobState::Queued, 0));
    let res = c
        .get(format!("{url}?state=nonsense"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
}
