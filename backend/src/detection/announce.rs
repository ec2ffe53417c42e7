//! Announcing the alert groups a pass made: one "group created" notification each,
//! queued in the transaction that marks the group announced.

use crate::error::Result;
use crate::notify::Event;
use crate::Store;

/// Announces every group not announced yet — made by this pass, or by a pass killed
/// before it announced — once. A group made only of alerts of `dry_run` series is
/// recorded, not announced.
pub(super) async fn announce_new_groups(
    store: &Store,
    project_id: i64,
    dry_run: &[i64],
) -> Result<()> {
    for id in store.unannounced_groups(project_id).await? {
        let quiet = !dry_run.is_empty() && only_dry_run(store, id, dry_run).await?;
        let event = Event::GroupCreated { group_id: id };
        let payload = serde_json::to_string(&event)?;
        store
            .announce_group(
                project_id,
                id,
                (!quiet).then_some((event.name(), payload.as_str())),
                crate::time::now_ms(),
            )
            .await?;
    }
    Ok(())
}

/// Whether every alert of a group is on a dry-run series.
async fn only_dry_run(store: &Store, group_id: i64, dry_run: &[i64]) -> Result<bool> {
    Ok(store
        .alert_group_series(group_id)
        .await?
        .iter()
        .all(|s| dry_run.contains(s)))
}
