//! Webhook deliveries on the work queue, through the workers `serve` starts: a
//! delivery whose stored event no longer decodes counts its attempt and ends dead at
//! once (it used to be retried hourly for ever), and sends nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use perfwatch_backend::accounts::Actor;
use perfwatch_backend::notify::{Event, NotifyConfig};
use perfwatch_backend::queue::lifecycle::{spawn_all, WorkersConfig};
use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::store::NewProject;
use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;
use tokio_util::sync::CancellationToken;

/// A receiver on 127.0.0.1 answering 200, counting requests.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = vec![0u8; 65536];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (url, calls)
}

async fn undecodable_delivery_is_dead_after_one_attempt(db: Db) {
    let (url, _) = fresh_database(db).await;
    let store = Store::connect(&url).await.unwrap();
    let pid = store
        .create_project(&NewProject {
            slug: "drv".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    let (_, secret) = perfwatch_backend::tokens::create_token(&store, "t", None)
        .await
        .unwrap();
    let admin = Actor::Token(
        perfwatch_backend::tokens::verify_token(&store, &secret)
            .await
            .unwrap()
            .unwrap(),
    );
    let (hook, calls) = receiver().await;
    let events = ["alert_group.created".to_string()];
    perfwatch_backend::notify::create_webhook(&store, &admin, "drv", &hook, "json", &events, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .enqueue_event(pid, Event::GroupCreated { group_id: 1 })
            .await
            .unwrap(),
        1
    );
    // An event stored by another version, that this one cannot read.
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE webhook_deliveries SET payload = '{\"event\":\"alert_group.renamed\"}'")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;

    let notify = NotifyConfig {
        poll: Duration::from_millis(20),
        backoff: Duration::from_millis(10),
        ..NotifyConfig::default()
    };
    let stop = CancellationToken::new();
    let workers = spawn_all(
        &store,
        &WorkersConfig::new("http://127.0.0.1:9".into(), notify),
        None,
        stop.clone(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let job = loop {
        let dead = store.queue_jobs(JobState::Dead, 10).await.unwrap();
        if let Some(j) = dead.into_iter().find(|j| j.kind == kinds::WEBHOOK) {
            break j;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery never ended dead"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(workers.shutdown(Duration::from_secs(5)).await);
    assert_eq!(job.attempts, 1, "one attempt, counted");
    assert!(
        job.last_error
            .as_deref()
            .unwrap_or("")
            .contains("does not decode"),
        "{job:?}"
    );
    let log = perfwatch_backend::notify::list_deliveries(&store, &admin, "drv")
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, "failed");
    assert_eq!(log[0].attempts, 1);
    assert!(log[0]
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("does not decode"));
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_delivery_is_dead_after_one_attempt_sqlite() {
    undecodable_delivery_is_dead_after_one_attempt(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_delivery_is_dead_after_one_attempt_postgres() {
    undecodable_delivery_is_dead_after_one_attempt(Db::Postgres).await;
}
