//! SQLite batches: which of the batch's run keys are stored already, found in one
//! statement per project instead of one `SELECT` per run.
//!
//! Why: every statement is a hop to sqlx's SQLite worker thread and back, and those
//! hops were the largest cost in the writer's profile (docs/benchmarks.md). The batch
//! holds the write lock (`BEGIN IMMEDIATE`) before it looks, so no other writer can
//! store one of these keys between the look and the batch's inserts; keys repeated
//! inside the batch are caught by `Batch::keys` growing as its runs are written.

use std::collections::{BTreeMap, HashMap};

use sqlx::{AssertSqlSafe, Row};

use crate::error::Result;
use crate::store::ingest_rows::RunRows;
use crate::store::queue::placeholders;
use crate::store::WriteTx;

/// (project slug, run key) → id of the stored run.
pub(crate) type StoredKeys = HashMap<(String, String), i64>;

/// What the runs of one batch share while they are written: their measurement and
/// sample rows (inserted together at the end, `ingest_rows.rs`) and the run keys
/// already stored, in the database or earlier in the batch.
pub(crate) struct Batch<'r> {
    pub(crate) rows: Vec<RunRows<'r>>,
    pub(crate) keys: StoredKeys,
}

/// Keys per statement: well under SQLite's parameter limit.
const KEYS_PER_STATEMENT: usize = 500;

/// The stored runs among `(slug, key)` pairs.
pub(crate) async fn stored_keys<'a>(
    tx: &mut WriteTx,
    keys: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<StoredKeys> {
    let mut by_project: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (slug, key) in keys {
        by_project.entry(slug).or_default().push(key);
    }
    let mut found = StoredKeys::new();
    for (slug, keys) in by_project {
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            // The (project_id, run_key) unique index answers each key.
            let sql = format!(
                "SELECT r.id, r.run_key FROM runs r JOIN projects p ON p.id = r.project_id
                 WHERE p.slug = $1 AND r.run_key IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(slug);
            for key in chunk {
                q = q.bind(*key);
            }
            for row in q.fetch_all(&mut **tx).await? {
                let key: String = row.try_get("run_key")?;
                found.insert((slug.to_owned(), key), row.try_get("id")?);
            }
        }
    }
    Ok(found)
}
