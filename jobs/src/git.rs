//! Git on the worker: one bare mirror per repository (cloned once, fetched before each
//! job) and fresh detached checkouts of single commits that borrow the mirror's objects.
//!
//! Git runs with no prompt (`GIT_TERMINAL_PROMPT=0`), without the system or user config
//! (so a developer's aliases, hooks or credential helpers never change what a worker
//! does), and only ever sees commit ids that were checked to be hex first. These calls
//! block; from async code run them in `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What went wrong talking to git.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("`{0}` is not a commit id (7 to 40 hex digits)")]
    InvalidSha(String),
    #[error("commit {0} is not in the repository")]
    UnknownCommit(String),
    #[error("`{0}` is not a repository URL or path git may use")]
    InvalidUrl(String),
    #[error("`{0}` is not a path inside the repository")]
    InvalidPath(String),
    #[error("commits {0} and {1} have no common ancestor")]
    NoMergeBase(String, String),
    /// git itself failed (network, disk, a corrupt mirror): usually worth a retry.
    #[error("git {args} failed: {stderr}")]
    Command { args: String, stderr: String },
    #[error("{0}")]
    Io(String),
}

/// A commit's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitMeta {
    pub sha: String,
    /// First parent; `None` for a root commit.
    pub parent: Option<String>,
    pub author: String,
    /// First line of the message.
    pub message: String,
    /// Committer time.
    pub time: DateTime<Utc>,
}

/// A bare `--mirror` clone of one repository.
#[derive(Debug, Clone)]
pub struct Mirror {
    path: PathBuf,
    url: String,
}

/// Checks a commit id before it reaches a command line: 7 to 40 hex digits.
pub fn check_sha(sha: &str) -> Result<(), GitError> {
    let ok = (7..=40).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(GitError::InvalidSha(sha.chars().take(80).collect()))
    }
}

impl Mirror {
    /// The mirror of `url` under `dir` (`dir/<name>-<hash of url>.git`), cloned with
    /// `--mirror` if it is not there yet. The clone goes to a temporary name first and is
    /// renamed into place, so an interrupted clone never looks like a mirror.
    pub fn open(dir: &Path, url: &str) -> Result<Mirror, GitError> {
        if url.is_empty() || url.starts_with('-') || url.contains(['\0', '\n']) {
            return Err(GitError::InvalidUrl(url.chars().take(200).collect()));
        }
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let path = dir.join(mirror_name(url));
        let _lock = MirrorLock::take(&path)?;
        let m = Mirror {
            path: path.clone(),
            url: url.to_string(),
        };
        if path.join("HEAD").is_file() {
            return Ok(m);
        }
        let tmp = dir.join(format!(".{}.tmp-{}", mirror_name(url), std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let tmp_s = tmp.to_string_lossy().into_owned();
        let r = git(None, &["clone", "--mirror", "--quiet", "--", url, &tmp_s]);
        if let Err(e) = r {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_dir_all(&tmp);
            // Another worker on this host won the race: its mirror is as good as ours.
            if !path.join("HEAD").is_file() {
                return Err(io("renaming into", &path, e));
            }
        }
        Ok(m)
    }

    /// Where the bare repository lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Updates every ref from the origin (pruning deleted ones).
    pub fn fetch(&self) -> Result<(), GitError> {
        let _lock = MirrorLock::take(&self.path)?;
        self.git(&["fetch", "--prune", "--quiet", "origin"])
            .map(|_| ())
    }

    /// The URL the mirror was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether `sha` names a commit in the mirror.
    pub fn has_commit(&self, sha: &str) -> Result<bool, GitError> {
        check_sha(sha)?;
        let out = self.run(&["cat-file", "-e", &format!("{sha}^{{commit}}")])?;
        Ok(out.status.success())
    }

    /// The full 40-digit id of a (possibly abbreviated) commit id.
    pub fn resolve(&self, sha: &str) -> Result<String, GitError> {
        check_sha(sha)?;
        let out = self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{sha}^{{commit}}"),
        ])?;
        let full = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || full.len() != 40 {
            return Err(GitError::UnknownCommit(sha.to_string()));
        }
        Ok(full)
    }

    /// The commit a branch of the mirror points at (a PR queued by hand is compared
    /// at its merge-base with the master branch). Branch names are checked before they
    /// reach git: no option-like or path-escaping names.
    pub fn branch_head(&self, branch: &str) -> Result<String, GitError> {
        let ok = !branch.is_empty()
            && !branch.starts_with('-')
            && !branch.contains("..")
            && branch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        if !ok {
            return Err(GitError::InvalidPath(branch.to_string()));
        }
        let out = self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}^{{commit}}"),
        ])?;
        let full = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || full.len() != 40 {
            return Err(GitError::UnknownCommit(format!("refs/heads/{branch}")));
        }
        Ok(full)
    }

    /// The best common ancestor of `a` and `b`.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
        let (a, b) = (self.resolve(a)?, self.resolve(b)?);
        let out = self.run(&["merge-base", &a, &b])?;
        let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !base.is_empty() {
            Ok(base)
        } else if out.status.code() == Some(1) {
            Err(GitError::NoMergeBase(a, b))
        } else {
            Err(command_error(&["merge-base"], &out))
        }
    }

    /// The text of `path` at commit `sha`; `None` when there is no such file.
    pub fn file_at(&self, sha: &str, path: &str) -> Result<Option<String>, GitError> {
        let sha = self.resolve(sha)?;
        let bad_path = path.is_empty()
            || path.starts_with('/')
            || path.contains(['\0', '\n', ':'])
            || path.split('/').any(|c| c == "..");
        if bad_path {
            return Err(GitError::InvalidPath(path.chars().take(200).collect()));
        }
        let spec = format!("{sha}:{path}");
        let kind = self.run(&["cat-file", "-t", &spec])?;
        if !kind.status.success() || String::from_utf8_lossy(&kind.stdout).trim() != "blob" {
            return Ok(None);
        }
        let out = self.git(&["cat-file", "blob", &spec])?;
        String::from_utf8(out.stdout)
            .map(Some)
            .map_err(|_| GitError::Io(format!("{path} at {sha} is not UTF-8 text")))
    }

    /// A fresh work tree of `sha` at `dest` (created; must not exist or be empty): a
    /// repository of its own whose objects come from the mirror through `alternates`,
    /// so nothing is copied and nothing in the mirror refers to `dest` — deleting
    /// `dest` is all the cleanup there is.
    pub fn checkout(&self, sha: &str, dest: &Path) -> Result<(), GitError> {
        let sha = self.resolve(sha)?;
        std::fs::create_dir_all(dest).map_err(|e| io("creating", dest, e))?;
        let dest_s = dest.to_string_lossy().into_owned();
        git(None, &["init", "--quiet", "--", &dest_s])?;
        let objects = self.path.join("objects");
        let alternates = dest.join(".git/objects/info/alternates");
        let abs = std::fs::canonicalize(&objects).map_err(|e| io("reading", &objects, e))?;
        std::fs::write(&alternates, format!("{}\n", abs.display()))
            .map_err(|e| io("writing", &alternates, e))?;
        git(Some(dest), &["checkout", "--quiet", "--detach", &sha])?;
        Ok(())
    }

    /// Author, first parent, first message line and committer time of `sha`.
    pub fn commit_info(&self, sha: &str) -> Result<CommitMeta, GitError> {
        let sha = self.resolve(sha)?;
        let out = self.git(&["log", "-1", "--format=%H%x00%P%x00%an%x00%ct%x00%s", &sha])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let parts: Vec<&str> = text.trim_end_matches('\n').split('\0').collect();
        let [full, parents, author, time, subject] = parts[..] else {
            return Err(GitError::Io(format!(
                "unexpected `git log` output for {sha}"
            )));
        };
        let secs: i64 = time
            .trim()
            .parse()
            .map_err(|_| GitError::Io(format!("bad commit time `{time}` for {sha}")))?;
        let time = Utc
            .timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| GitError::Io(format!("commit time {secs} out of range")))?;
        Ok(CommitMeta {
            sha: full.to_string(),
            parent: parents.split_whitespace().next().map(str::to_string),
            author: author.to_string(),
            message: subject.to_string(),
            time,
        })
    }

    fn run(&self, args: &[&str]) -> Result<Output, GitError> {
        let p = self.path.to_string_lossy().into_owned();
        let mut full = vec!["--git-dir", p.as_str()];
        full.extend_from_slice(args);
        raw(None, &full)
    }

    fn git(&self, args: &[&str]) -> Result<Output, GitError> {
        let out = self.run(args)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(command_error(args, &out))
        }
    }
}

/// An exclusive `flock` on `<mirror>.lock` while cloning or fetching: workers in one
/// process or several on one host update a mirror one at a time instead of failing on
/// git's ref locks. Released when dropped (the file is closed).
struct MirrorLock {
    _file: std::fs::File,
}

impl MirrorLock {
    fn take(mirror: &Path) -> Result<MirrorLock, GitError> {
        use std::os::fd::AsRawFd;
        let p = mirror.with_extension("lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| io("opening", &p, e))?;
        // SAFETY: flock(2) on a descriptor this function owns; no memory is shared.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io("locking", &p, std::io::Error::last_os_error()));
        }
        Ok(MirrorLock { _file: f })
    }
}

/// `<last path segment>-<12 hex of sha256(url)>.git`: readable and collision-free.
fn mirror_name(url: &str) -> String {
    let tail: String = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    let tail = tail.trim_start_matches('.');
    let h = hex::encode(Sha256::digest(url.as_bytes()));
    format!(
        "{}-{}.git",
        if tail.is_empty() { "repo" } else { tail },
        &h[..12]
    )
}

/// Runs git and insists on success.
fn git(cwd: Option<&Path>, args: &[&str]) -> Result<Output, GitError> {
    let out = raw(cwd, args)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(command_error(args, &out))
    }
}

/// Runs git isolated from the machine's configuration.
fn raw(cwd: Option<&Path>, args: &[&str]) -> Result<Output, GitError> {
    let mut cmd = Command::new("git");
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.args([
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "advice.detachedHead=false",
    ])
    .args(args)
    .env("GIT_TERMINAL_PROMPT", "0")
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null")
    .env_remove("GIT_DIR")
    .env_remove("GIT_WORK_TREE")
    .env_remove("GIT_INDEX_FILE")
    .env_remove("GIT_OBJECT_DIRECTORY")
    .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
    .stdin(Stdio::null());
    cmd.output()
        .map_err(|e| GitError::Io(format!("running git: {e}")))
}

fn command_error(args: &[&str], out: &Output) -> GitError {
    let stderr = String::from_utf8_lossy(&out.stderr);
    GitError::Command {
        args: args.iter().take(3).copied().collect::<Vec<_>>().join(" "),
        stderr: stderr.trim().chars().take(2000).collect(),
    }
}

fn io(what: &str, p: &Path, e: std::io::Error) -> GitError {
    GitError::Io(format!("{what} {}: {e}", p.display()))
}
