//! Every client method against the fake GitHub on 127.0.0.1: what goes over the wire,
//! what comes back, and how failures are classified.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{Duration, Utc};
use perfwatch_github::fake::FakeGitHub;
use perfwatch_github::{CheckRunReq, Client, ClientError, Credentials, PullInfo, StatusReq};

const KEY: &str = include_str!("data/test_app_key.pem");
const PUB: &str = include_str!("data/test_app_key.pub.pem");
const REPO: &str = "Org/Repo";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn token_client(fake: &FakeGitHub) -> Client {
    Client::new(&fake.url(), Credentials::Token("test-token".into())).unwrap()
}

fn status(state: &str) -> StatusReq {
    StatusReq {
        state: state.into(),
        context: "perfwatch".into(),
        description: "d".repeat(300),
        target_url: Some("http://127.0.0.1/jobs/1".into()),
    }
}

fn check(status: &str, conclusion: Option<&str>) -> CheckRunReq {
    CheckRunReq {
        name: "perfwatch".into(),
        head_sha: SHA.into(),
        status: status.into(),
        conclusion: conclusion.map(str::to_string),
        external_id: Some("job-7".into()),
        details_url: None,
        title: "Performance".into(),
        summary: "all good".into(),
    }
}

fn pull(number: u64, head_repo: Option<&str>) -> PullInfo {
    PullInfo {
        number,
        state: "open".into(),
        head_sha: SHA.into(),
        head_ref: format!("feature-{number}"),
        head_repo: head_repo.map(str::to_string),
        base_ref: "main".into(),
        base_sha: "ffffffffffffffffffffffffffffffffffffffff".into(),
    }
}

#[tokio::test]
async fn status_is_sent_with_github_headers_and_cut_description() {
    let fake = FakeGitHub::start().await;
    token_client(&fake)
        .create_status(REPO, SHA, &status("pending"))
        .await
        .unwrap();
    let statuses = fake.statuses(REPO, SHA);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["state"], "pending");
    assert_eq!(statuses[0]["description"].as_str().unwrap().len(), 140);
    assert_eq!(statuses[0]["target_url"], "http://127.0.0.1/jobs/1");
    let call = &fake.calls_to("POST", &format!("/repos/{REPO}/statuses/"))[0];
    assert_eq!(call.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(call.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(call.header("user-agent"), Some("perfwatch"));
    assert_eq!(call.authorization.as_deref(), Some("Bearer test-token"));
}

#[tokio::test]
async fn check_run_created_then_completed() {
    let fake = FakeGitHub::start().await;
    let client = token_client(&fake);
    let id = client
        .create_check_run(REPO, &check("in_progress", None))
        .await
        .unwrap();
    client
        .update_check_run(REPO, id, &check("completed", Some("success")))
        .await
        .unwrap();
    let runs = fake.check_runs(REPO);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["id"], id);
    assert_eq!(runs[0]["status"], "completed");
    assert_eq!(runs[0]["conclusion"], "success");
    assert_eq!(runs[0]["external_id"], "job-7");
    assert_eq!(runs[0]["output"]["title"], "Performance");
    let patch = &fake.calls_to("PATCH", "/repos/")[0];
    assert_eq!(patch.path, format!("/repos/{REPO}/check-runs/{id}"));
    assert!(patch.body.get("head_sha").is_none());
    let missing = client
        .update_check_run(REPO, id + 100, &check("completed", Some("success")))
        .await;
    assert!(matches!(
        missing,
        Err(ClientError::Permanent { status: 404, .. })
    ));
}

#[tokio::test]
async fn comments_paginate_over_150_and_edit_in_place() {
    let fake = FakeGitHub::start().await;
    let client = token_client(&fake);
    for i in 0..150 {
        fake.add_comment(REPO, 9, "someone", &format!("comment {i}"));
    }
    let id = client
        .create_issue_comment(REPO, 9, "<!-- perfwatch:sticky -->\nv1")
        .await
        .unwrap();
    let all = client.list_issue_comments(REPO, 9).await.unwrap();
    assert_eq!(all.len(), 151);
    assert_eq!(all[0].body, "comment 0");
    assert_eq!(all[149].body, "comment 149");
    assert_eq!(
        (all[150].id, all[150].user.as_str()),
        (id, "perfwatch[bot]")
    );
    let pages = fake.calls_to("GET", &format!("/repos/{REPO}/issues/9/comments"));
    let queries: Vec<_> = pages
        .iter()
        .map(|c| c.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(queries, ["per_page=100", "per_page=100&page=2"]);

    client
        .update_issue_comment(REPO, id, "<!-- perfwatch:sticky -->\nv2")
        .await
        .unwrap();
    let now = fake.comments(REPO, 9);
    assert_eq!(now.len(), 151);
    assert_eq!(now[150].body, "<!-- perfwatch:sticky -->\nv2");
    assert!(client
        .list_issue_comments(REPO, 10)
        .await
        .unwrap()
        .is_empty());
    let gone = client.update_issue_comment(REPO, 1, "x").await;
    assert!(matches!(
        gone,
        Err(ClientError::Permanent { status: 404, .. })
    ));
}

#[tokio::test]
async fn pulls_and_branches() {
    let fake = FakeGitHub::start().await;
    let client = token_client(&fake);
    fake.set_pull(REPO, pull(1, Some("org/repo")));
    fake.set_pull(REPO, pull(2, None));
    fake.set_pull(REPO, pull(3, Some("fork/repo")));
    fake.close_pull(REPO, 3);
    assert_eq!(
        client.get_pull(REPO, 1).await.unwrap(),
        pull(1, Some("org/repo"))
    );
    assert_eq!(client.get_pull(REPO, 2).await.unwrap().head_repo, None);
    assert_eq!(client.get_pull(REPO, 3).await.unwrap().state, "closed");
    let open: Vec<u64> = client
        .list_open_pulls(REPO)
        .await
        .unwrap()
        .iter()
        .map(|p| p.number)
        .collect();
    assert_eq!(open, [1, 2]);
    assert!(matches!(
        client.get_pull(REPO, 4).await,
        Err(ClientError::Permanent { status: 404, .. })
    ));

    fake.set_branch(REPO, "release/1.x", SHA);
    assert_eq!(client.branch_head(REPO, "release/1.x").await.unwrap(), SHA);
    let call = fake
        .calls_to("GET", &format!("/repos/{REPO}/branches/"))
        .pop()
        .unwrap();
    assert_eq!(call.path, format!("/repos/{REPO}/branches/release%2F1.x"));
    assert!(matches!(
        client.branch_head(REPO, "nope").await,
        Err(ClientError::Permanent { status: 404, .. })
    ));
}

#[tokio::test]
async fn outage_is_transient_then_recovers() {
    let fake = FakeGitHub::start().await;
    let client = token_client(&fake);
    fake.fail_next(2, 502);
    for _ in 0..2 {
        let err = client
            .create_status(REPO, SHA, &status("success"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Transient(_)) && err.is_retryable(),
            "{err:?}"
        );
    }
    client
        .create_status(REPO, SHA, &status("success"))
        .await
        .unwrap();
    assert_eq!(fake.statuses(REPO, SHA).len(), 1);
    fake.stop();
    assert_stops_serving(&client).await;
}

#[tokio::test]
async fn rate_limit_carries_the_reset_time() {
    let fake = FakeGitHub::start().await;
    let client = token_client(&fake);
    fake.rate_limit_next(120);
    let before = Utc::now();
    match client.get_pull(REPO, 1).await {
        Err(ClientError::RateLimited { retry_at }) => {
            let wait = retry_at - before;
            assert!(
                wait > Duration::seconds(115) && wait <= Duration::seconds(121),
                "{wait}"
            );
        }
        other => panic!("{other:?}"),
    }
    fake.set_pull(REPO, pull(1, None));
    assert!(client.get_pull(REPO, 1).await.is_ok());
}

#[tokio::test]
async fn wrong_token_is_refused_and_never_echoed() {
    let fake = FakeGitHub::start().await;
    fake.require_token("right-token");
    let wrong = Client::new(&fake.url(), Credentials::Token("wrong-token".into())).unwrap();
    let err = wrong
        .create_status(REPO, SHA, &status("error"))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Permanent { status: 401, .. }));
    assert!(!format!("{err} {err:?} {wrong:?}").contains("wrong-token"));
    let right = Client::new(&fake.url(), Credentials::Token("right-token".into())).unwrap();
    right
        .create_status(REPO, SHA, &status("error"))
        .await
        .unwrap();
}

fn app_client(fake: &FakeGitHub, app_id: u64) -> Client {
    let creds = Credentials::App {
        app_id,
        installation_id: 77,
        private_key_pem: KEY.into(),
    };
    Client::new(&fake.url(), creds).unwrap()
}

#[tokio::test]
async fn app_credentials_mint_a_jwt_and_cache_the_installation_token() {
    let fake = FakeGitHub::start().await;
    fake.set_app(1234, Some(PUB));
    let client = app_client(&fake, 1234);
    client
        .create_status(REPO, SHA, &status("pending"))
        .await
        .unwrap();
    client
        .create_status(REPO, SHA, &status("success"))
        .await
        .unwrap();
    client.list_issue_comments(REPO, 1).await.unwrap();

    let exchanges = fake.calls_to("POST", "/app/installations/77/access_tokens");
    assert_eq!(exchanges.len(), 1, "the installation token is cached");
    let jwt = exchanges[0]
        .authorization
        .as_deref()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUB.as_bytes()).unwrap();
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        jwt,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256),
    )
    .unwrap()
    .claims;
    assert_eq!(claims["iss"], "1234");

    let token = &fake.issued_tokens()[0];
    let repo_calls: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| c.path.starts_with("/repos/"))
        .collect();
    assert!(repo_calls.len() == 3 && fake.calls_to("POST", "/repos/").len() == 2);
    for call in &repo_calls {
        assert_eq!(
            call.authorization.as_deref(),
            Some(format!("Bearer {token}").as_str())
        );
    }
}

#[tokio::test]
async fn short_lived_installation_tokens_are_renewed() {
    let fake = FakeGitHub::start().await;
    fake.set_app(1234, Some(PUB));
    // Expires within the client's five-minute margin: every call needs a new one.
    fake.set_token_ttl(240);
    let client = app_client(&fake, 1234);
    client
        .create_status(REPO, SHA, &status("pending"))
        .await
        .unwrap();
    client
        .create_status(REPO, SHA, &status("success"))
        .await
        .unwrap();
    assert_eq!(fake.issued_tokens().len(), 2);
}

#[tokio::test]
async fn wrong_app_id_is_refused() {
    let fake = FakeGitHub::start().await;
    fake.set_app(1234, Some(PUB));
    let err = app_client(&fake, 999)
        .create_status(REPO, SHA, &status("pending"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Permanent { status: 401, .. }),
        "{err:?}"
    );
    assert!(fake.statuses(REPO, SHA).is_empty());
}

#[tokio::test]
async fn fake_stops_when_the_last_clone_is_dropped() {
    let fake = FakeGitHub::start().await;
    let url = fake.url();
    let clone = fake.clone();
    drop(fake);
    let client = Client::new(&url, Credentials::Token("t".into())).unwrap();
    fake_branch(&clone);
    assert!(client.branch_head(REPO, "main").await.is_ok());
    drop(clone);
    assert_stops_serving(&client).await;
}

fn fake_branch(fake: &FakeGitHub) {
    fake.set_branch(REPO, "main", SHA);
}

/// Shutdown is asynchronous: polls until the listener and the client's idle
/// keep-alive connection are closed and calls fail as transient (within seconds even
/// on a loaded machine).
async fn assert_stops_serving(client: &Client) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match client.branch_head(REPO, "main").await {
            Err(ClientError::Transient(_)) => return,
            other => assert!(
                std::time::Instant::now() < deadline,
                "still served: {other:?}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
