//! Process groups: every step runs as the leader of its own group so that killing the
//! group also kills what it spawned (a `sh -c` wrapper, a server's workers, a stray
//! `sleep 1000`), which killing the leader alone would leave running.

use std::time::Duration;

use tokio::process::Child;

/// A spawned group; dropping it SIGKILLs whatever is left of the group, so no code path
/// (error, timeout, a dropped future) leaves processes behind.
pub(crate) struct Group {
    pgid: i32,
}

impl Group {
    /// The group led by `child` (spawned with `process_group(0)`, so pgid = pid).
    pub fn of(child: &Child) -> Option<Group> {
        let pid = child.id()?;
        let pgid = i32::try_from(pid).ok().filter(|p| *p > 1)?;
        Some(Group { pgid })
    }

    pub fn pid(&self) -> u32 {
        self.pgid.unsigned_abs()
    }

    /// Sends `sig` to every process in the group; false when none is left.
    pub fn signal(&self, sig: i32) -> bool {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is
        // touched. pgid > 1 (checked in `of`), so this never means "every process".
        unsafe { libc::kill(-self.pgid, sig) == 0 }
    }

    /// SIGTERM to the group, up to `grace` for the leader to exit, then SIGKILL to the
    /// group in any case (children may outlive a leader that obeyed). Returns the
    /// leader's exit code (128 + signal when killed by one).
    pub async fn terminate(&self, child: &mut Child, grace: Duration) -> i32 {
        self.signal(libc::SIGTERM);
        let first = tokio::time::timeout(grace, child.wait()).await;
        self.signal(libc::SIGKILL);
        let status = match first {
            Ok(s) => s,
            Err(_) => child.wait().await,
        };
        status.map(|s| exit_code(&s)).unwrap_or(-1)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // The leader may already be reaped; the group id stays valid while any member
        // lives, and ESRCH when none does is harmless.
        self.signal(libc::SIGKILL);
    }
}

/// The exit code, or 128 + the signal number as shells report it.
pub(crate) fn exit_code(s: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code()
        .or_else(|| s.signal().map(|n| 128 + n))
        .unwrap_or(-1)
}
