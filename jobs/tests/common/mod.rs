//! Shared by the integration tests: a log sink that remembers, a git repository made
//! on the spot, process checks.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use perfwatch_jobs::{LogSink, Stream};

/// Keeps every line; tests look for what they expect.
#[derive(Default)]
pub struct Lines(pub Mutex<Vec<(String, Stream, String)>>);

impl LogSink for Lines {
    fn line(&self, step: &str, stream: Stream, text: &str) {
        self.0
            .lock()
            .unwrap()
            .push((step.to_string(), stream, text.to_string()));
    }
}

impl Lines {
    pub fn text(&self) -> String {
        let l = self.0.lock().unwrap();
        l.iter()
            .map(|(s, _, t)| format!("[{s}] {t}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Runs git in `dir` without the machine's config; panics on failure (test setup).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A new repository at `dir` with a test identity.
pub fn init_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Test"]);
    git(dir, &["config", "user.email", "test@example.com"]);
}

/// Writes `files` and commits them; returns the new commit id.
pub fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to `ms` for `pid` to be gone.
pub fn gone_within(pid: i32, ms: u64) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while std::time::Instant::now() < end {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    !alive(pid)
}

/// A tiny HTTP service: answers every GET with 200 `ok`, on 127.0.0.1:$PORT.
pub const SERVICE_PY: &str = r#"import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
print("listening", os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"#;
