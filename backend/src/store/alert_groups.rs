//! Alert groups: an alert joins the group its suspect range overlaps; groups its range
//! bridges merge. Runs inside the detection transaction (see `alerts.rs`).

use perfwatch_core::alerts::{RangeAxis, SuspectRange};
use sqlx::Row;

use super::WriteTx;
use crate::error::Result;

/// Puts an alert into the group its range overlaps, merging groups its range (or the
/// grown group's range) bridges, or into a new group.
pub(super) async fn assign_group(
    tx: &mut WriteTx,
    project_id: i64,
    alert_id: i64,
    axis: RangeAxis,
    range: SuspectRange,
    old_group: Option<i64>,
    now: i64,
) -> Result<i64> {
    let mut span = range;
    let mut gid: Option<i64> = None;
    loop {
        let rows = sqlx::query(
            "SELECT id FROM alert_groups WHERE project_id = $1 AND axis = $2 AND range_lo < $3 AND $4 < range_hi
             AND id <> $5 ORDER BY id",
        )
        .bind(project_id)
        .bind(axis.as_str())
        .bind(span.hi)
        .bind(span.lo)
        .bind(gid.unwrap_or(-1))
        .fetch_all(&mut **tx)
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            break;
        }
        let target = match gid {
            Some(g) => g.min(ids[0]),
            None => ids[0],
        };
        let others = gid.into_iter().chain(ids.iter().copied());
        merge_into(tx, target, others.filter(|g| *g != target)).await?;
        gid = Some(target);
        set_alert_group(tx, alert_id, target).await?;
        let grown = refresh_group(tx, target, now).await?.unwrap_or(span);
        if grown == span {
            break;
        }
        span = grown;
    }
    let gid = match gid {
        Some(g) => g,
        None => {
            let g: i64 = sqlx::query_scalar(
                "INSERT INTO alert_groups (project_id, axis, range_lo, range_hi, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(project_id)
            .bind(axis.as_str())
            .bind(range.lo)
            .bind(range.hi)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            set_alert_group(tx, alert_id, g).await?;
            refresh_group(tx, g, now).await?;
            g
        }
    };
    if let Some(old) = old_group.filter(|o| *o != gid) {
        refresh_group(tx, old, now).await?;
    }
    Ok(gid)
}

/// Moves the alerts of the `others` groups into `target` and deletes those groups.
async fn merge_into(
    tx: &mut WriteTx,
    target: i64,
    others: impl Iterator<Item = i64>,
) -> Result<()> {
    for other in others {
        sqlx::query("UPDATE alerts SET group_id = $1 WHERE group_id = $2")
            .bind(target)
            .bind(other)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM alert_groups WHERE id = $1")
            .bind(other)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_alert_group(tx: &mut WriteTx, alert_id: i64, group_id: i64) -> Result<()> {
    sqlx::query("UPDATE alerts SET group_id = $1 WHERE id = $2")
        .bind(group_id)
        .bind(alert_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a group's range and commits from its alerts; deletes it when it has none.
/// Returns the new range.
pub(super) async fn refresh_group(
    tx: &mut WriteTx,
    gid: i64,
    now: i64,
) -> Result<Option<SuspectRange>> {
    let row = sqlx::query(
        "SELECT MIN(range_lo) AS range_lo, MAX(range_hi) AS range_hi, COUNT(*) AS n
         FROM alerts WHERE group_id = $1",
    )
    .bind(gid)
    .fetch_one(&mut **tx)
    .await?;
    let n: i64 = row.try_get("n")?;
    if n == 0 {
        sqlx::query("DELETE FROM alert_groups WHERE id = $1")
            .bind(gid)
            .execute(&mut **tx)
            .await?;
        return Ok(None);
    }
    let range = SuspectRange {
        lo: row.try_get("range_lo")?,
        hi: row.try_get("range_hi")?,
    };
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT last_good_commit_id FROM alerts WHERE group_id = $1 ORDER BY range_lo, id LIMIT 1",
    )
    .bind(gid)
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT first_bad_commit_id FROM alerts WHERE group_id = $1 ORDER BY range_hi DESC, id LIMIT 1",
    )
    .bind(gid)
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    sqlx::query(
        "UPDATE alert_groups SET range_lo = $2, range_hi = $3, first_commit_id = $4, last_commit_id = $5,
             updated_at = $6 WHERE id = $1",
    )
    .bind(gid)
    .bind(range.lo)
    .bind(range.hi)
    .bind(first)
    .bind(last)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Some(range))
}
