//! The fake GitHub's endpoints, as a pure function from a request and the state to a
//! reply; the HTTP plumbing lives in `fake.rs`.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::state::{page, Call, St};
use crate::api_types::PullInfo;

pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body,
    }
}

fn not_found() -> Reply {
    reply(404, json!({"message": "Not Found"}))
}

fn unprocessable(what: &str) -> Reply {
    reply(
        422,
        json!({"message": format!("Validation Failed: {what}")}),
    )
}

/// Answers one recorded call: faults first, then authentication, then the endpoint.
pub(crate) fn respond(st: &mut St, call: &Call) -> Reply {
    if st.fail_next.0 > 0 {
        st.fail_next.0 -= 1;
        return reply(st.fail_next.1, json!({"message": "injected failure"}));
    }
    if let Some(reset_in) = st.rate_limit_next.take() {
        let reset = Utc::now().timestamp() + i64::try_from(reset_in).unwrap_or(i64::MAX / 2);
        let mut r = reply(403, json!({"message": "API rate limit exceeded"}));
        r.headers = vec![
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
        ];
        return r;
    }
    let segments: Vec<String> = call
        .path
        .trim_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["app", "installations", _, "access_tokens"] = seg.as_slice() {
        return if call.method == "POST" {
            access_token(st, call)
        } else {
            not_found()
        };
    }
    if !authorized(st, call.authorization.as_deref()) {
        return reply(401, json!({"message": "Bad credentials"}));
    }
    let ["repos", owner, name, rest @ ..] = seg.as_slice() else {
        return not_found();
    };
    let repo = format!("{owner}/{name}").to_lowercase();
    let number = |s: &str| s.parse::<u64>().ok();
    match (call.method.as_str(), rest) {
        ("POST", ["statuses", sha]) => create_status(st, &repo, sha, call),
        ("POST", ["check-runs"]) => create_check_run(st, &repo, call),
        ("PATCH", ["check-runs", id]) => {
            number(id).map_or_else(not_found, |id| update_check_run(st, &repo, id, call))
        }
        ("GET", ["issues", n, "comments"]) => {
            number(n).map_or_else(not_found, |n| list_comments(st, &repo, n, call))
        }
        ("POST", ["issues", n, "comments"]) => {
            number(n).map_or_else(not_found, |n| create_comment(st, &repo, n, call))
        }
        ("PATCH", ["issues", "comments", id]) => {
            number(id).map_or_else(not_found, |id| edit_comment(st, &repo, id, call))
        }
        ("GET", ["pulls", n]) => number(n)
            .and_then(|n| st.pulls.get(&repo)?.get(&n).cloned())
            .map_or_else(not_found, |p| reply(200, pull_json(&repo, &p))),
        ("GET", ["pulls"]) => list_open_pulls(st, &repo, call),
        // Branch names with `/` arrive as one encoded segment, or (unencoded) as many.
        ("GET", ["branches", branch @ ..]) if !branch.is_empty() => {
            let branch = branch.join("/");
            match st.branches.get(&(repo, branch.clone())) {
                Some(sha) => reply(
                    200,
                    json!({"name": branch, "commit": {"sha": sha}, "protected": false}),
                ),
                None => reply(404, json!({"message": "Branch not found"})),
            }
        }
        _ => not_found(),
    }
}

/// With neither a required token nor an App configured, anything goes.
fn authorized(st: &St, header: Option<&str>) -> bool {
    if st.required_token.is_none() && st.app.is_none() {
        return true;
    }
    let Some(token) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("token "))
    }) else {
        return false;
    };
    st.required_token.as_deref() == Some(token) || st.issued_tokens.iter().any(|t| t == token)
}

/// `POST /app/installations/{id}/access_tokens`: checks the App JWT like GitHub does
/// (RS256, `iss` = the App id, at most 10 minutes long, not expired; signed by the
/// App's key when the fake knows the public half) and issues a token.
fn access_token(st: &mut St, call: &Call) -> Reply {
    let Some(jwt) = call
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
    else {
        return reply(
            401,
            json!({"message": "A JSON web token could not be decoded"}),
        );
    };
    match check_jwt(st, jwt) {
        Ok(()) => {
            let n = st.issued_tokens.len() + 1;
            let token = format!("ghs_fake_installation_token_{n}");
            st.issued_tokens.push(token.clone());
            let expires_at = Utc::now() + Duration::seconds(st.token_ttl_secs);
            reply(
                201,
                json!({"token": token, "expires_at": expires_at.to_rfc3339(), "permissions": {}}),
            )
        }
        Err(why) => reply(401, json!({"message": why})),
    }
}

fn check_jwt(st: &St, jwt: &str) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| format!("bad JWT header: {e}"))?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("JWT must be RS256, got {:?}", header.alg));
    }
    let mut v = Validation::new(Algorithm::RS256);
    v.set_required_spec_claims(&["exp", "iat", "iss"]);
    let key = match st.app.as_ref().and_then(|a| a.public_key_pem.as_deref()) {
        Some(pem) => {
            DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("fake's key: {e}"))?
        }
        None => {
            v.insecure_disable_signature_validation();
            DecodingKey::from_secret(&[])
        }
    };
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &v)
        .map_err(|e| format!("bad JWT: {e}"))?
        .claims;
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    if !matches!((iat, exp), (Some(iat), Some(exp)) if exp > iat && exp - iat <= 600) {
        return Err("JWT must be valid for at most 10 minutes".into());
    }
    if let Some(app) = &st.app {
        let iss = &claims["iss"];
        let same = iss.as_u64() == Some(app.app_id)
            || iss.as_str() == Some(app.app_id.to_string().as_str());
        if !same {
            return Err(format!("JWT iss {iss} is not app {}", app.app_id));
        }
    }
    Ok(())
}

fn create_status(st: &mut St, repo: &str, sha: &str, call: &Call) -> Reply {
    let state = call.body["state"].as_str().unwrap_or_default();
    if !["pending", "success", "failure", "error"].contains(&state) {
        return unprocessable("state");
    }
    if call.body["description"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 140)
    {
        return unprocessable("description is too long (maximum is 140 characters)");
    }
    let mut status = call.body.clone();
    status["id"] = json!(st.new_id());
    st.statuses
        .entry((repo.to_string(), sha.to_lowercase()))
        .or_default()
        .push(status.clone());
    reply(201, status)
}

fn create_check_run(st: &mut St, repo: &str, call: &Call) -> Reply {
    if call.body["name"].as_str().is_none() || call.body["head_sha"].as_str().is_none() {
        return unprocessable("name and head_sha are required");
    }
    let mut run = call.body.clone();
    run["id"] = json!(st.new_id());
    st.check_runs
        .entry(repo.to_string())
        .or_default()
        .push(run.clone());
    reply(201, run)
}

fn update_check_run(st: &mut St, repo: &str, id: u64, call: &Call) -> Reply {
    let runs = st.check_runs.entry(repo.to_string()).or_default();
    let Some(run) = runs.iter_mut().find(|r| r["id"].as_u64() == Some(id)) else {
        return not_found();
    };
    if let (Some(run), Some(patch)) = (run.as_object_mut(), call.body.as_object()) {
        for (k, v) in patch {
            run.insert(k.clone(), v.clone());
        }
    }
    reply(200, run.clone())
}

fn query_number(call: &Call, key: &str, default: usize) -> usize {
    let query = call.query.as_deref().unwrap_or_default();
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

/// One page of `items`, with GitHub's `Link` header when there are more.
fn paged(st: &St, call: &Call, items: &[Value], extra_query: &str) -> Reply {
    let per_page = query_number(call, "per_page", 30).clamp(1, 100);
    let n = query_number(call, "page", 1).max(1);
    let (chunk, pages) = page(items, per_page, n);
    let mut r = reply(200, Value::Array(chunk));
    if n < pages {
        let at = |p: usize| {
            format!(
                "{}{}?{extra_query}per_page={per_page}&page={p}",
                st.base_url, call.path
            )
        };
        r.headers.push((
            "link".into(),
            format!(
                r#"<{}>; rel="next", <{}>; rel="last""#,
                at(n + 1),
                at(pages)
            ),
        ));
    }
    r
}

fn list_comments(st: &St, repo: &str, number: u64, call: &Call) -> Reply {
    let items: Vec<Value> = st
        .comments
        .get(&(repo.to_string(), number))
        .map(|list| list.iter().map(|c| json!({"id": c.id, "body": c.body, "user": {"login": c.user, "type": user_type(&c.user)}})).collect())
        .unwrap_or_default();
    paged(st, call, &items, "")
}

fn user_type(login: &str) -> &'static str {
    if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    }
}

fn create_comment(st: &mut St, repo: &str, number: u64, call: &Call) -> Reply {
    let Some(body) = call.body["body"].as_str() else {
        return unprocessable("body is required");
    };
    if body.chars().count() > 65_536 {
        return unprocessable("body is too long (maximum is 65536 characters)");
    }
    let user = st.bot_login.clone();
    let id = st.add_comment(repo, number, &user, body);
    reply(
        201,
        json!({"id": id, "body": body, "user": {"login": user, "type": "Bot"}}),
    )
}

fn edit_comment(st: &mut St, repo: &str, id: u64, call: &Call) -> Reply {
    let Some(body) = call.body["body"].as_str() else {
        return unprocessable("body is required");
    };
    if body.chars().count() > 65_536 {
        return unprocessable("body is too long (maximum is 65536 characters)");
    }
    if st.edit_comment(repo, id, body) {
        reply(200, json!({"id": id, "body": body}))
    } else {
        not_found()
    }
}

fn list_open_pulls(st: &St, repo: &str, call: &Call) -> Reply {
    let items: Vec<Value> = st
        .pulls
        .get(repo)
        .map(|pulls| {
            pulls
                .values()
                .filter(|p| p.state == "open")
                .map(|p| pull_json(repo, p))
                .collect()
        })
        .unwrap_or_default();
    paged(st, call, &items, "state=open&")
}

/// A pull request as GitHub's REST API shows it (the fields the client reads, and a
/// few around them).
pub(crate) fn pull_json(repo: &str, p: &PullInfo) -> Value {
    let head_repo = p
        .head_repo
        .as_ref()
        .map(|r| json!({"full_name": r, "name": r.split('/').nth(1)}));
    json!({
        "number": p.number,
        "state": p.state,
        "draft": false,
        "head": {"ref": p.head_ref, "sha": p.head_sha, "repo": head_repo},
        "base": {"ref": p.base_ref, "sha": p.base_sha, "repo": {"full_name": repo}},
    })
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
