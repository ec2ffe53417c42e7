//! The ingest use case: store a validated run; then, for runs on the main branch, the
//! follow-up work (change-point detection) that a new point makes necessary.

use perfwatch_core::validate::ValidRun;

use crate::error::Result;
use crate::store::{IngestOptions, StoredRun};
use crate::Store;

pub async fn ingest_run(store: &Store, run: &ValidRun, opts: &IngestOptions) -> Result<StoredRun> {
    let stored = store.store_run(run, opts).await?;
    Ok(stored)
}
