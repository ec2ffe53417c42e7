//! A job's scratch directory under the work root: unique per job, removed when the job
//! ends (explicitly off the async threads, or on drop if the job future is dropped).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::runner::JobError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) struct WorkDir {
    path: PathBuf,
    removed: bool,
}

impl WorkDir {
    /// `root/job-<pid>-<nanos>-<n>`, created fresh (never reusing an existing one).
    pub fn create(root: &Path) -> Result<WorkDir, JobError> {
        let err = |e: std::io::Error, p: &Path| JobError::Io(format!("{}: {e}", p.display()));
        std::fs::create_dir_all(root).map_err(|e| err(e, root))?;
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("job-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| err(e, &path))?;
        Ok(WorkDir {
            path,
            removed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn remove(mut self) {
        let p = self.path.clone();
        let _ = tokio::task::spawn_blocking(move || remove(&p)).await;
        self.removed = true;
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.removed {
            remove(&self.path);
        }
    }
}

/// A few tries: a process killed a moment ago may still be closing files in it.
fn remove(p: &Path) {
    for _ in 0..5 {
        match std::fs::remove_dir_all(p) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                tracing::debug!("removing {}: {e}; retrying", p.display());
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
