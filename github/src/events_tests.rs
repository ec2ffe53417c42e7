//! Unit tests of `events`, on trimmed copies of real GitHub payloads.

use super::*;
use serde_json::json;

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn pr_payload() -> Value {
    json!({
        "action": "synchronize",
        "number": 42,
        "pull_request": {
            "number": 42, "state": "open", "draft": false, "merged": false,
            "author_association": "CONTRIBUTOR",
            "user": {"login": "alice", "type": "User"},
            "head": {"ref": "feature", "sha": "abc123",
                     "repo": {"full_name": "Alice/Perfwatch"}},
            "base": {"ref": "main", "sha": "def456",
                     "repo": {"full_name": "Org/Perfwatch"}}
        },
        "repository": {"full_name": "Org/Perfwatch"}
    })
}

#[test]
fn repository_is_lower_cased() {
    assert_eq!(
        repository_of(&bytes(&pr_payload())),
        Ok("org/perfwatch".into())
    );
    assert_eq!(
        repository_of(b"{}"),
        Err(EventError::Missing("repository.full_name".into()))
    );
    assert!(matches!(
        repository_of(b"not json"),
        Err(EventError::NotJson(_))
    ));
    assert!(matches!(repository_of(b""), Err(EventError::NotJson(_))));
}

#[test]
fn pull_request_fields_and_fork() {
    let Event::PullRequest(pr) = parse("pull_request", &bytes(&pr_payload())).unwrap() else {
        panic!("not a pull request")
    };
    assert_eq!(pr.number, 42);
    assert_eq!(pr.head_sha, "abc123");
    assert_eq!(pr.head_repo.as_deref(), Some("alice/perfwatch"));
    assert_eq!(pr.base_repo, "org/perfwatch");
    assert_eq!(pr.author, "alice");
    assert!(pr.from_fork());

    let mut same = pr_payload();
    same["pull_request"]["head"]["repo"]["full_name"] = json!("org/perfwatch");
    let Event::PullRequest(pr) = parse("pull_request", &bytes(&same)).unwrap() else {
        panic!()
    };
    assert!(!pr.from_fork());

    let mut deleted = pr_payload();
    deleted["pull_request"]["head"]["repo"] = Value::Null;
    let Event::PullRequest(pr) = parse("pull_request", &bytes(&deleted)).unwrap() else {
        panic!()
    };
    assert_eq!(pr.head_repo, None);
    assert!(pr.from_fork());
}

#[test]
fn missing_and_wrong_fields_are_named() {
    let mut v = pr_payload();
    v["pull_request"]["head"]
        .as_object_mut()
        .unwrap()
        .remove("sha");
    assert_eq!(
        parse("pull_request", &bytes(&v)),
        Err(EventError::Missing("pull_request.head.sha".into()))
    );
    let mut v = pr_payload();
    v["number"] = json!("42");
    let err = parse("pull_request", &bytes(&v)).unwrap_err();
    assert_eq!(
        err,
        EventError::WrongType {
            path: "number".into(),
            expected: "an unsigned integer"
        }
    );
    assert!(err.to_string().contains("`number`"));
    let mut v = pr_payload();
    v["number"] = json!(-1);
    assert!(parse("pull_request", &bytes(&v)).is_err());
    assert!(matches!(
        parse("push", b"[1,2"),
        Err(EventError::NotJson(_))
    ));
    assert!(parse("push", b"[]").is_err());
    assert!(parse("push", b"null").is_err());
}

#[test]
fn push_branch_tag_and_deletion() {
    let v = json!({
        "ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000",
        "after": "1111111111111111111111111111111111111111", "created": true,
        "deleted": false, "forced": false,
        "pusher": {"name": "bob", "email": "bob@example.com"},
        "head_commit": {"id": "1111111111111111111111111111111111111111", "message": "fix"},
        "repository": {"full_name": "Org/Repo"}
    });
    let Event::Push(p) = parse("push", &bytes(&v)).unwrap() else {
        panic!()
    };
    assert_eq!(p.repo, "org/repo");
    assert_eq!(p.branch.as_deref(), Some("main"));
    assert_eq!(p.pusher, "bob");
    assert_eq!(p.head_message.as_deref(), Some("fix"));

    let mut tag = v.clone();
    tag["ref"] = json!("refs/tags/v1");
    let Event::Push(p) = parse("push", &bytes(&tag)).unwrap() else {
        panic!()
    };
    assert_eq!(p.branch, None);

    let mut del = v.clone();
    del["deleted"] = json!(true);
    del["head_commit"] = Value::Null;
    let Event::Push(p) = parse("push", &bytes(&del)).unwrap() else {
        panic!()
    };
    assert!(p.deleted);
    assert_eq!(p.head_message, None);
}

#[test]
fn issue_comment_on_pr_by_bot() {
    let v = json!({
        "action": "created",
        "issue": {"number": 7, "pull_request": {"url": "https://x/pulls/7"}},
        "comment": {"id": 99, "body": "/perfwatch run", "author_association": "MEMBER",
                    "user": {"login": "perfwatch[bot]", "type": "Bot"}},
        "repository": {"full_name": "o/r"}
    });
    let Event::IssueComment(c) = parse("issue_comment", &bytes(&v)).unwrap() else {
        panic!()
    };
    assert!(c.is_pull_request && c.user_is_bot);
    assert_eq!((c.issue_number, c.comment_id), (7, 99));
    assert_eq!(c.body, "/perfwatch run");

    let mut issue = v.clone();
    issue["issue"]
        .as_object_mut()
        .unwrap()
        .remove("pull_request");
    issue["comment"]["user"]["type"] = json!("User");
    let Event::IssueComment(c) = parse("issue_comment", &bytes(&issue)).unwrap() else {
        panic!()
    };
    assert!(!c.is_pull_request && !c.user_is_bot);
}

#[test]
fn check_run_and_others() {
    let v = json!({
        "action": "rerequested",
        "check_run": {"id": 5, "head_sha": "abc", "external_id": "job-3",
                      "pull_requests": [{"number": 1}, {"number": 2}]},
        "repository": {"full_name": "o/r"}
    });
    let Event::CheckRun(c) = parse("check_run", &bytes(&v)).unwrap() else {
        panic!()
    };
    assert_eq!(c.external_id.as_deref(), Some("job-3"));
    assert_eq!(c.pull_requests, vec![1, 2]);

    let mut bad = v.clone();
    bad["check_run"]["pull_requests"][1] = json!({"number": "x"});
    assert_eq!(
        parse("check_run", &bytes(&bad)),
        Err(EventError::WrongType {
            path: "check_run.pull_requests.1.number".into(),
            expected: "an unsigned integer"
        })
    );
    assert_eq!(
        parse("ping", br#"{"zen":"Keep it simple."}"#),
        Ok(Event::Ping {
            zen: Some("Keep it simple.".into())
        })
    );
    assert_eq!(parse("star", b"garbage"), Ok(Event::Other("star".into())));
}

proptest::proptest! {
    #[test]
    fn parse_never_panics_on_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        for event in ["ping", "push", "pull_request", "issue_comment", "check_run"] {
            let _ = parse(event, &body);
        }
        let _ = repository_of(&body);
    }

    #[test]
    fn parse_never_panics_on_mangled_payloads(path in proptest::collection::vec("[a-z_]{1,12}", 1..4), value in proptest::prelude::any::<i64>()) {
        // Replace one nested field of a valid payload with a number or null.
        let mut v = pr_payload();
        let mut cur = &mut v;
        for key in &path {
            if !cur.is_object() { break; }
            cur = cur.as_object_mut().unwrap().entry(key.clone()).or_insert(Value::Null);
        }
        *cur = if value % 2 == 0 { json!(value) } else { Value::Null };
        let _ = parse("pull_request", &bytes(&v));
    }
}
