//! A stored run's follow-up job (detection or the baseline comparison), written in the
//! run's own transaction.
//!
//! Why: queued in a transaction of its own, the job cost every run a second commit,
//! on SQLite a second turn of the one writer, and a run acknowledged just before a
//! crash could lose its detection. Written with the run, it commits with it or not
//! at all; on SQLite the runs of a batch share one queue write per project.

use super::queue::{enqueue_coalesced_in, insert_job};
use super::{Dialect, WriteTx};
use crate::error::Result;
use crate::followup::{merge_for_ingest, FollowUpJob, DETECT_GATHER};

/// Queues `jobs` inside `tx`; detection coalesces into the project's queued job.
pub(super) async fn queue_follow_ups(
    dialect: Dialect,
    tx: &mut WriteTx,
    jobs: &[FollowUpJob],
    now: i64,
) -> Result<()> {
    for j in jobs {
        match j {
            FollowUpJob::Detect { job, add } => {
                enqueue_coalesced_in(dialect, tx, job, now, DETECT_GATHER, |old| {
                    merge_for_ingest(old, add)
                })
                .await?;
            }
            // No coalesce key: the insert always inserts.
            FollowUpJob::Compare(job) => {
                insert_job(tx, job, now).await?;
            }
        }
    }
    Ok(())
}
