//! Unit tests of the fake's routing, without HTTP.

use serde_json::{json, Value};

use super::*;

fn call(method: &str, path: &str, query: Option<&str>, body: Value) -> Call {
    Call {
        method: method.into(),
        path: path.into(),
        query: query.map(str::to_string),
        body,
        authorization: None,
        headers: Vec::new(),
    }
}

fn fresh() -> St {
    let mut st = St::new();
    st.base_url = "http://127.0.0.1:9".into();
    st
}

#[test]
fn default_page_size_and_links() {
    let mut st = fresh();
    for i in 0..70 {
        st.add_comment("o/r", 1, "u", &format!("c{i}"));
    }
    let r = respond(
        &mut st,
        &call("GET", "/repos/O/R/issues/1/comments", None, Value::Null),
    );
    assert_eq!(r.body.as_array().map(Vec::len), Some(30));
    let link = &r.headers[0].1;
    assert!(
        link.contains(
            "<http://127.0.0.1:9/repos/O/R/issues/1/comments?per_page=30&page=2>; rel=\"next\""
        ),
        "{link}"
    );
    assert!(link.contains("page=3>; rel=\"last\""), "{link}");
    let r = respond(
        &mut st,
        &call(
            "GET",
            "/repos/o/r/issues/1/comments",
            Some("per_page=30&page=3"),
            Value::Null,
        ),
    );
    assert_eq!(r.body.as_array().map(Vec::len), Some(10));
    assert!(r.headers.is_empty());
}

#[test]
fn faults_auth_and_unknown_routes() {
    let mut st = fresh();
    st.fail_next = (1, 503);
    let get = call("GET", "/repos/o/r/pulls/1", None, Value::Null);
    assert_eq!(respond(&mut st, &get).status, 503);
    assert_eq!(respond(&mut st, &get).status, 404);
    st.required_token = Some("t".into());
    assert_eq!(respond(&mut st, &get).status, 401);
    let mut authed = get.clone();
    authed.authorization = Some("token t".into());
    assert_eq!(respond(&mut st, &authed).status, 404);
    authed.path = "/nothing/here".into();
    assert_eq!(respond(&mut st, &authed).status, 404);
    authed.path = "/repos/o/r/check-runs/notanumber".into();
    authed.method = "PATCH".into();
    assert_eq!(respond(&mut st, &authed).status, 404);
}

#[test]
fn validation_like_github() {
    let mut st = fresh();
    let bad_state = call(
        "POST",
        "/repos/o/r/statuses/abc",
        None,
        json!({"state": "green"}),
    );
    assert_eq!(respond(&mut st, &bad_state).status, 422);
    let long = call(
        "POST",
        "/repos/o/r/statuses/abc",
        None,
        json!({"state": "error", "description": "x".repeat(141)}),
    );
    assert_eq!(respond(&mut st, &long).status, 422);
    let no_sha = call("POST", "/repos/o/r/check-runs", None, json!({"name": "n"}));
    assert_eq!(respond(&mut st, &no_sha).status, 422);
    let huge = call(
        "POST",
        "/repos/o/r/issues/1/comments",
        None,
        json!({"body": "x".repeat(65_537)}),
    );
    assert_eq!(respond(&mut st, &huge).status, 422);
    let bad_jwt = Call {
        authorization: Some("Bearer not.a.jwt".into()),
        ..call(
            "POST",
            "/app/installations/1/access_tokens",
            None,
            Value::Null,
        )
    };
    assert_eq!(respond(&mut st, &bad_jwt).status, 401);
    assert!(st.issued_tokens.is_empty());
}
