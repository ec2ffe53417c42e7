//! The tiny git repository whose commits the soak's performance jobs run: a
//! `.perfwatch.toml` with one bench step that notes the commit in a run log (so a job
//! run twice shows) and prints one Go benchmark line.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

pub struct JobRepo {
    pub dir: PathBuf,
    /// One line per executed bench step: the commit it ran.
    pub run_log: PathBuf,
    head: String,
    commits: u64,
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "soak")
        .env("GIT_AUTHOR_EMAIL", "soak@example.com")
        .env("GIT_COMMITTER_NAME", "soak")
        .env("GIT_COMMITTER_EMAIL", "soak@example.com")
        .output()
        .context("git runs")?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl JobRepo {
    pub fn create(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        git(&dir, &["init", "-q", "-b", "master"])?;
        let run_log = dir.with_extension("runlog");
        std::fs::write(&run_log, "")?;
        let mut repo = Self {
            dir,
            run_log,
            head: "0".repeat(40),
            commits: 0,
        };
        repo.commit()?;
        Ok(repo)
    }

    /// The previous head (GitHub's `before`).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// A new commit on master; returns its sha.
    pub fn commit(&mut self) -> anyhow::Result<String> {
        self.commits += 1;
        let n = self.commits;
        let definition = format!(
            "repeats = 1\n\n[load]\nbench = \"echo $PERFWATCH_SHA >> {}; echo 'BenchmarkSoakJob-2 1000 {} ns/op'\"\nformat = \"go\"\ntimeout = \"60s\"\n",
            self.run_log.display(),
            1000 + n % 7
        );
        std::fs::write(self.dir.join(".perfwatch.toml"), definition)?;
        git(&self.dir, &["add", "-A"])?;
        git(&self.dir, &["commit", "-q", "-m", &format!("soak {n}")])?;
        self.head = git(&self.dir, &["rev-parse", "HEAD"])?;
        Ok(self.head.clone())
    }

    /// How many times each commit's bench step ran.
    pub fn executions(&self, sha: &str) -> usize {
        std::fs::read_to_string(&self.run_log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.trim() == sha)
            .count()
    }
}

impl Drop for JobRepo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.run_log);
    }
}
