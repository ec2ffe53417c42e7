//! The real `perfwatch` binary as child processes (`serve`, `worker`), for the soak
//! command and the crash-safety tests: start on 127.0.0.1:0, learn the address, read
//! the RSS, and SIGKILL (tokio's `start_kill` sends SIGKILL on Unix, so no shutdown
//! code runs).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `perfwatch` binary: `PERFWATCH_BIN`, else the one beside this executable (a
/// binary in `target/<profile>/`, or a test in `target/<profile>/deps/`).
pub fn perfwatch_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("PERFWATCH_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("executable without a folder")?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().context("deps without a parent")?;
    }
    let bin = dir.join("perfwatch");
    if !bin.exists() {
        bail!(
            "{} is missing: build it first (cargo build [--release] -p perfwatch-server -p perfwatch-tests --bin perfwatch) or set PERFWATCH_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// Builds the `perfwatch` binary the tests start (cargo does not build another
/// package's binary for a test), in the profile of the test itself. With
/// `-p perfwatch-tests` in the same command the features match the test build, so
/// nothing is compiled twice.
pub fn build_server() {
    // A binary named explicitly is used as it is.
    if std::env::var_os("PERFWATCH_BIN").is_some() {
        return;
    }
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "-q",
        "-p",
        "perfwatch-server",
        "-p",
        "perfwatch-tests",
    ])
    .args(["--bin", "perfwatch"])
    .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building the perfwatch binary failed");
}

fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("PERFWATCH_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("PW_SERVER_LOG").unwrap_or_else(|_| "error".into()),
    );
}

/// A `perfwatch serve` process; killed when dropped.
pub struct ServerProc {
    pub child: Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub pid: u32,
}

impl ServerProc {
    /// Starts `perfwatch serve --no-demo` on a free port with `args` added, and waits
    /// (at most 60 s) for the address line.
    pub async fn start(bin: &Path, database_url: &str, args: &[&str]) -> anyhow::Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--no-demo"])
            .args(["--database-url", database_url])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        clean_env(&mut cmd);
        let mut child = cmd.spawn().context("start perfwatch serve")?;
        let pid = child.id().context("the server's pid")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| anyhow!("the server did not start within 60 s"))??
            .ok_or_else(|| anyhow!("the server exited before printing its address"))?;
        let base = line
            .strip_prefix("perfwatch listening on ")
            .ok_or_else(|| anyhow!("unexpected first line: {line}"))?
            .to_string();
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, base, pid })
    }

    /// SIGKILL, then reap the process.
    pub async fn kill9(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// A `perfwatch worker` process; killed when dropped.
pub struct WorkerProc {
    pub child: Child,
}

impl WorkerProc {
    pub async fn start(
        bin: &Path,
        database_url: &str,
        data_dir: &Path,
        key_file: &Path,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(["worker", "--database-url", database_url])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--secret-key-file")
            .arg(key_file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        clean_env(&mut cmd);
        Ok(Self {
            child: cmd.spawn().context("start perfwatch worker")?,
        })
    }
}

/// Resident set size of a process in bytes (VmRSS of /proc/PID/status).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let p = procfs::process::Process::new(pid as i32).ok()?;
    p.status().ok()?.vmrss.map(|kb| kb * 1024)
}
