//! `--public-url` goes through the one http(s) URL check (`core::http_url`): links in
//! answers, reports and PR comments are built from it, so `perfwatch serve` and
//! `perfwatch worker` refuse a `javascript:` or `ftp://` URL at start, naming the flag.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a failing unwrap is the test failing"
)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

/// The exit status and stderr of `perfwatch <sub> --public-url <url>`; the database
/// is never opened because the flag is refused first.
fn start(sub: &str, url: &str) -> (bool, String) {
    let db = std::env::temp_dir().join(format!("pw_public_url_{}.db", std::process::id()));
    let out = Command::new(BIN)
        .args([sub, "--public-url", url, "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .env_remove("PERFWATCH_PUBLIC_URL")
        .output()
        .unwrap();
    assert!(
        !db.exists(),
        "{sub} opened the database before checking its flags"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_and_worker_refuse_a_public_url_that_is_not_http() {
    for sub in ["serve", "worker"] {
        for (url, why) in [
            ("javascript:alert(1)", "scheme `javascript`"),
            ("ftp://perf.example", "scheme `ftp`"),
            ("perf.example", "not a URL"),
        ] {
            let (ok, stderr) = start(sub, url);
            assert!(!ok, "{sub} started with --public-url {url}");
            assert!(stderr.contains("--public-url"), "{sub} {url}: {stderr}");
            assert!(stderr.contains(why), "{sub} {url}: {stderr}");
        }
    }
}
