//! Running one step: `sh -c COMMAND` as its own process group, output streamed line by
//! line, bounded by a timeout and a cancellation token; on either the whole group is
//! killed (SIGTERM, SIGKILL after a grace).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::definition::Step;
use crate::duration;
use crate::group::{exit_code, Group};
use crate::output::{pump, Capture};
pub use crate::output::{LogSink, Stream, STDOUT_CAP};
pub use crate::service::{start_service, start_service_named, ServiceHandle};

/// Between SIGTERM and SIGKILL when a step times out or is canceled.
pub const STEP_GRACE: Duration = Duration::from_secs(3);
/// After the leader exits, how long stragglers' output may still drain.
const DRAIN: Duration = Duration::from_secs(2);

/// A step that ran to completion with exit code 0.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRun {
    pub exit_code: i32,
    pub duration: Duration,
    /// Stdout as written, up to [`STDOUT_CAP`] bytes.
    pub stdout: String,
    /// Stdout was longer than [`STDOUT_CAP`].
    pub stdout_truncated: bool,
}

/// Why a step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StepError {
    #[error("{step} failed (exit {exit_code}); last output:\n{tail}")]
    Failed {
        step: String,
        exit_code: i32,
        tail: String,
    },
    #[error("{step} timed out after {}", duration::format(*after))]
    TimedOut { step: String, after: Duration },
    #[error("{step} was canceled")]
    Canceled { step: String },
    #[error("{step} could not be started: {reason}")]
    Spawn { step: String, reason: String },
    /// A service that exited before its readiness probe answered, or never answered.
    #[error("{step} did not become ready: {reason}")]
    NotReady { step: String, reason: String },
}

impl StepError {
    /// The step's name as given to [`run_step`] / [`start_service_named`].
    pub fn step(&self) -> &str {
        match self {
            StepError::Failed { step, .. }
            | StepError::TimedOut { step, .. }
            | StepError::Canceled { step }
            | StepError::Spawn { step, .. }
            | StepError::NotReady { step, .. } => step,
        }
    }

    /// Short outcome for step records: `failed (exit 2)`, `timed out`, …
    pub fn outcome(&self) -> String {
        match self {
            StepError::Failed { exit_code, .. } => format!("failed (exit {exit_code})"),
            StepError::TimedOut { .. } => "timed out".into(),
            StepError::Canceled { .. } => "canceled".into(),
            StepError::Spawn { .. } => "could not start".into(),
            StepError::NotReady { .. } => "not ready".into(),
        }
    }
}

/// `sh -c command` in `dir`, in a new process group, stdin closed, stdout and stderr
/// piped. The worker's environment is inherited (PATH, HOME), then `env`, then
/// `extra_env` (the runner's variables win).
pub(crate) fn shell(
    command: &str,
    dir: &Path,
    env: &std::collections::BTreeMap<String, String>,
    extra_env: &[(String, String)],
) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .envs(env)
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    cmd
}

/// Spawns and returns the child with its group guard.
pub(crate) fn spawn(name: &str, mut cmd: Command) -> Result<(Child, Group), StepError> {
    let spawn_err = |reason: String| StepError::Spawn {
        step: name.to_string(),
        reason,
    };
    let child = cmd.spawn().map_err(|e| spawn_err(e.to_string()))?;
    let group = Group::of(&child).ok_or_else(|| spawn_err("the process has no pid".into()))?;
    Ok((child, group))
}

/// Runs `step` in `cwd` (joined with its `workdir`). Exit 0 → [`StepRun`]; anything else
/// → [`StepError`]. Whatever happens, no process of the step's group is left running.
pub async fn run_step(
    name: &str,
    step: &Step,
    cwd: &Path,
    extra_env: &[(String, String)],
    sink: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<StepRun, StepError> {
    let dir = match &step.workdir {
        Some(w) => cwd.join(w),
        None => cwd.to_path_buf(),
    };
    if !dir.is_dir() {
        return Err(StepError::Spawn {
            step: name.to_string(),
            reason: format!("working directory {} does not exist", dir.display()),
        });
    }
    let started = Instant::now();
    let (mut child, group) = spawn(name, shell(&step.command, &dir, &step.env, extra_env))?;
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let cap = Capture::default();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();

    let readers = async {
        let both = async {
            tokio::join!(
                async {
                    if let Some(o) = out {
                        pump(o, name, Stream::Stdout, sink, &cap).await;
                    }
                },
                async {
                    if let Some(e) = err {
                        pump(e, name, Stream::Stderr, sink, &cap).await;
                    }
                }
            )
        };
        // A process that left the group (setsid) may hold the pipes open forever; once
        // the step is over its output gets DRAIN to arrive, then is abandoned.
        tokio::select! {
            _ = both => {}
            _ = async { let _ = done_rx.await; tokio::time::sleep(DRAIN).await } => {}
        }
    };
    let waiter = async {
        let end = tokio::select! {
            s = child.wait() => Ok(s.map(|s| exit_code(&s)).unwrap_or(-1)),
            _ = tokio::time::sleep(step.timeout) => Err(StepError::TimedOut {
                step: name.to_string(),
                after: step.timeout,
            }),
            _ = cancel.cancelled() => Err(StepError::Canceled { step: name.to_string() }),
        };
        if let Err(e) = &end {
            sink.line(
                name,
                Stream::System,
                &format!("{}; killing its process group", e.outcome()),
            );
            group.terminate(&mut child, STEP_GRACE).await;
        }
        // Stragglers (background jobs the command left) go with the step.
        group.signal(libc::SIGKILL);
        let _ = done_tx.send(());
        end
    };
    let ((), end) = tokio::join!(readers, waiter);
    let code = end?;
    if code != 0 {
        return Err(StepError::Failed {
            step: name.to_string(),
            exit_code: code,
            tail: cap.tail(),
        });
    }
    Ok(StepRun {
        exit_code: code,
        duration: started.elapsed(),
        stdout: cap.stdout(),
        stdout_truncated: cap.truncated(),
    })
}
