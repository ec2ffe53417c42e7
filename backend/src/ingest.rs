//! The ingest use case: store a validated run; then, for runs on the main branch, the
//! follow-up work (change-point detection) that a new point makes necessary.

use perfwatch_core::validate::ValidRun;

use crate::detection::{detect_project, DetectSettings, Scope};
use crate::error::Result;
use crate::store::{IngestOptions, StoredRun};
use crate::Store;

pub async fn ingest_run(store: &Store, run: &ValidRun, opts: &IngestOptions) -> Result<StoredRun> {
    let stored = store.store_run(run, opts).await?;
    // Detection follows runs on the main branch and time-indexed runs (no branch). The
    // run is stored either way: a detection failure is logged, not returned, and the
    // next pass (or `POST /projects/{slug}/detect`) catches up.
    if !stored.duplicate && (stored.on_main_branch || stored.branch_id.is_none()) {
        let scope = Scope::Series(stored.series_ids.clone());
        if let Err(e) =
            detect_project(store, &stored.project, scope, &DetectSettings::default()).await
        {
            tracing::error!(run_id = stored.run_id, error = %e, "detection after ingest failed");
        }
    }
    Ok(stored)
}
