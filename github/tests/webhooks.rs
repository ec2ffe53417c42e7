//! The fake's webhook deliveries go through the real checks: the signature verifies
//! with the right secret only, and every payload builder parses into its event.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_github::fake::payloads::{self, ZERO_SHA};
use perfwatch_github::fake::webhook_request;
use perfwatch_github::{parse, repository_of, verify, Event, SignatureError};

const SECRET: &[u8] = b"webhook secret";
const A: &str = "1111111111111111111111111111111111111111";
const B: &str = "2222222222222222222222222222222222222222";

/// Verifies like the webhook endpoint does and parses; the event.
fn deliver(event: &str, body: &serde_json::Value) -> Event {
    let (headers, bytes) = webhook_request(SECRET, event, "delivery-1", body);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-github-delivery"), Some("delivery-1"));
    assert_eq!(header("x-github-event"), Some(event));
    verify(SECRET, &bytes, header("x-hub-signature-256")).unwrap();
    assert_eq!(
        verify(b"other", &bytes, header("x-hub-signature-256")),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(repository_of(&bytes).unwrap(), "org/repo");
    parse(header("x-github-event").unwrap(), &bytes).unwrap()
}

#[test]
fn push_payloads() {
    let Event::Push(p) = deliver("push", &payloads::push("Org/Repo", "main", A, B)) else {
        panic!()
    };
    assert_eq!(
        (p.branch.as_deref(), p.before.as_str(), p.after.as_str()),
        (Some("main"), A, B)
    );
    assert!(!p.deleted && p.head_message.is_some());
    let Event::Push(p) = deliver("push", &payloads::push("Org/Repo", "gone", A, ZERO_SHA)) else {
        panic!()
    };
    assert!(p.deleted && p.head_message.is_none());
}

#[test]
fn pull_request_payloads() {
    let body = payloads::pull_request("Org/Repo", "opened", 5, B, "feat", A, Some("Org/Repo"));
    let Event::PullRequest(pr) = deliver("pull_request", &body) else {
        panic!()
    };
    assert_eq!(
        (pr.number, pr.head_sha.as_str(), pr.base_sha.as_str()),
        (5, B, A)
    );
    assert_eq!(
        (pr.head_ref.as_str(), pr.base_ref.as_str()),
        ("feat", "main")
    );
    assert!(!pr.from_fork());
    let body = payloads::pull_request(
        "Org/Repo",
        "synchronize",
        6,
        B,
        "feat",
        A,
        Some("someone/repo"),
    );
    let Event::PullRequest(pr) = deliver("pull_request", &body) else {
        panic!()
    };
    assert!(pr.from_fork());
    assert_eq!(pr.author_association, "CONTRIBUTOR");
    let body = payloads::pull_request("Org/Repo", "closed", 7, B, "feat", A, None);
    let Event::PullRequest(pr) = deliver("pull_request", &body) else {
        panic!()
    };
    assert_eq!((pr.action.as_str(), pr.head_repo), ("closed", None));
}

#[test]
fn comment_check_run_and_ping_payloads() {
    let body = payloads::issue_comment("Org/Repo", 5, "/perfwatch rerun", "alice", "COLLABORATOR");
    let Event::IssueComment(c) = deliver("issue_comment", &body) else {
        panic!()
    };
    assert!(c.is_pull_request && !c.user_is_bot);
    assert_eq!(
        (c.issue_number, c.body.as_str(), c.user.as_str()),
        (5, "/perfwatch rerun", "alice")
    );
    assert_eq!(c.author_association, "COLLABORATOR");
    let body = payloads::issue_comment("Org/Repo", 5, "done", "perfwatch[bot]", "NONE");
    let Event::IssueComment(bot) = deliver("issue_comment", &body) else {
        panic!()
    };
    assert!(bot.user_is_bot && bot.comment_id != c.comment_id);

    let body = payloads::check_run_rerequested("Org/Repo", B, "job-9");
    let Event::CheckRun(run) = deliver("check_run", &body) else {
        panic!()
    };
    assert_eq!(
        (run.action.as_str(), run.head_sha.as_str()),
        ("rerequested", B)
    );
    assert_eq!(run.external_id.as_deref(), Some("job-9"));

    assert!(matches!(
        deliver("ping", &payloads::ping("Org/Repo")),
        Event::Ping { zen: Some(_) }
    ));
}
