//! Webhook deliveries on the work queue, through the workers `serve` starts: a
//! delivery whose stored event no longer decodes counts its attempt and ends dead at
//! once (it used to be retried hourly for ever), and sends nothing; signing secrets
//! are stored sealed, secrets an older version stored in plain text are sealed at
//! start, and both still sign deliveries.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use perfwatch_backend::accounts::Actor;
use perfwatch_backend::notify::{Event, NotifyConfig};
use perfwatch_backend::queue::lifecycle::{spawn_all, WorkersConfig};
use perfwatch_backend::queue::{kinds, JobState};
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::testing::{fresh_database, seed, Db};
use perfwatch_backend::Store;
use tokio_util::sync::CancellationToken;

perfwatch_backend::on_both!(
    db, multi_thread:
    undecodable_delivery_is_dead_after_one_attempt,
    signing_secrets_are_sealed_and_still_sign,
);

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

/// A fresh database with project `drv` and an admin token's actor: `(url, store,
/// project id, actor)`.
async fn project_with_admin(db: Db) -> (String, Store, i64, Actor) {
    let (url, _) = fresh_database(db).await;
    let store = Store::connect(&url).await.unwrap();
    let pid = seed::project(&store, "drv").await;
    let admin = seed::admin(&store, "t").await;
    (url, store, pid, admin)
}

async fn undecodable_delivery_is_dead_after_one_attempt(db: Db) {
    let (url, store, pid, admin) = project_with_admin(db).await;
    let (hook, calls) = receiver().await;
    let events = ["alert_group.created".to_string()];
    let seal = SealKey::generate();
    perfwatch_backend::notify::create_webhook(
        &store, &seal, &admin, "drv", &hook, "json", &events, None,
    )
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
        &WorkersConfig::new("http://127.0.0.1:9".into(), notify, seal),
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

/// A receiver on 127.0.0.1 answering 200 that keeps each request's signature header
/// and body.
async fn signed_receiver() -> (String, Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let sig = headers["x-perfwatch-signature"]
                    .to_str()
                    .unwrap()
                    .to_string();
                g.lock().unwrap().push((sig, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

async fn signing_secrets_are_sealed_and_still_sign(db: Db) {
    let (url, store, pid, admin) = project_with_admin(db).await;
    let seal = SealKey::generate();
    let (new_url, new_got) = signed_receiver().await;
    let (old_url, old_got) = signed_receiver().await;
    let events = ["alert_group.created".to_string()];
    let (_, new_secret) = perfwatch_backend::notify::create_webhook(
        &store, &seal, &admin, "drv", &new_url, "json", &events, None,
    )
    .await
    .unwrap();
    let (old_id, _) = perfwatch_backend::notify::create_webhook(
        &store, &seal, &admin, "drv", &old_url, "json", &events, None,
    )
    .await
    .unwrap();
    // What an older version left: the second subscription's secret in plain text.
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE webhooks SET secret = 'whsec_stored_in_plain_text' WHERE id = $1")
        .bind(old_id)
        .execute(&raw)
        .await
        .unwrap();

    // At start the plain one is sealed; a second pass finds nothing left.
    assert_eq!(
        perfwatch_backend::notify::seal_stored_webhook_secrets(&store, &seal)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        perfwatch_backend::notify::seal_stored_webhook_secrets(&store, &seal)
            .await
            .unwrap(),
        0
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT secret FROM webhooks ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    raw.close().await;
    assert_eq!(stored.len(), 2);
    for s in &stored {
        assert!(s.starts_with("sealed:"), "stored unsealed: {s}");
        assert!(!s.contains(&new_secret) && !s.contains("whsec_"), "{s}");
    }

    assert_eq!(
        store
            .enqueue_event(pid, Event::GroupCreated { group_id: 1 })
            .await
            .unwrap(),
        2
    );
    let notify = NotifyConfig {
        poll: Duration::from_millis(20),
        backoff: Duration::from_millis(10),
        ..NotifyConfig::default()
    };
    let stop = CancellationToken::new();
    let workers = spawn_all(
        &store,
        &WorkersConfig::new("http://127.0.0.1:9".into(), notify, seal),
        None,
        stop.clone(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while new_got.lock().unwrap().is_empty() || old_got.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a delivery never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(workers.shutdown(Duration::from_secs(5)).await);
    // Each receiver checks the signature with the secret it was given.
    for (got, secret) in [
        (new_got, new_secret.as_str()),
        (old_got, "whsec_stored_in_plain_text"),
    ] {
        let (sig, body) = got.lock().unwrap()[0].clone();
        assert_eq!(
            sig,
            format!(
                "sha256={}",
                perfwatch_backend::notify::hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
            )
        );
    }
}
