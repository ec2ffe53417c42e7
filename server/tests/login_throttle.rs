//! Login throttling over HTTP: failed attempts make a name (and a client address) wait,
//! doubling; while waiting even the right password is refused; unknown names behave
//! exactly like known ones; the login page says how long to wait.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use perfwatch_backend::accounts::Role;
use perfwatch_backend::login_guard::LoginPolicy;
use perfwatch_server::testing::{spawn_app_with, Db, TestApp, PASSWORD};

struct Answer {
    /// Where the login form sends the browser.
    location: String,
    session: bool,
    retry_after: Option<u64>,
}

async fn attempt(app: &TestApp, name: &str, password: &str) -> Answer {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/auth/login", app.base))
        .header("origin", &app.base)
        .form(&[("name", name), ("password", password), ("next", "/alerts")])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 303, "login of {name}");
    let h = res.headers();
    Answer {
        location: h["location"].to_str().expect("ascii").to_string(),
        session: h
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("pw_session=") && !c.starts_with("pw_session=;")),
        retry_after: h
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok()),
    }
}

fn wrong(a: &Answer) -> bool {
    a.location.starts_with("/login?error=1&") && !a.session
}

fn throttled(a: &Answer) -> bool {
    a.location.starts_with("/login?error=throttled&retry=") && !a.session && a.retry_after.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_throttle_the_name_and_then_the_address() {
    let wait = Duration::from_millis(1500);
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.login = LoginPolicy {
            free_per_account: 3,
            free_per_address: 8,
            base_wait: wait,
            max_wait: Duration::from_secs(30),
            ..LoginPolicy::default()
        }
    })
    .await;
    perfwatch_backend::accounts::create_user(&app.store, "alice", PASSWORD, Some(Role::Viewer))
        .await
        .expect("create alice");

    // A known and an unknown name get the same answers, attempt by attempt; while a
    // name waits, even its right password does not get in.
    for name in ["alice", "nobody"] {
        for i in 0..3 {
            let a = attempt(&app, name, "guess").await;
            assert!(wrong(&a), "{name} attempt {i}: {}", a.location);
        }
        let a = attempt(&app, name, PASSWORD).await;
        assert!(throttled(&a), "{name}: {}", a.location);
        let secs = a.retry_after.unwrap_or_default();
        assert!((1..=2).contains(&secs), "{name}: retry after {secs} s");
    }

    // After the wait, the right password works and clears the name's count.
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
    let a = attempt(&app, "alice", PASSWORD).await;
    assert!(a.session && a.location == "/alerts", "{}", a.location);
    assert!(wrong(&attempt(&app, "alice", "guess").await));

    // 7 failures from this address so far; the 8th starts its wait, so a name that
    // never failed is refused too (a spray across names from one address).
    assert!(wrong(&attempt(&app, "carol", "guess").await));
    let a = attempt(&app, "dave", "guess").await;
    assert!(throttled(&a), "{}", a.location);

    let (status, page) = app.page(None, "/login?error=throttled&retry=7").await;
    assert_eq!(status, 200);
    assert!(page.contains("Too many failed attempts: try again in 7 seconds."));
    let (_, metrics) = app.page(None, "/metrics").await;
    for line in [
        r#"perfwatch_login_attempts_total{outcome="ok"} 1"#,
        r#"perfwatch_login_attempts_total{outcome="wrong"} 8"#,
        r#"perfwatch_login_attempts_total{outcome="throttled"} 3"#,
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}
