//! One storage interface over SQLite (the embedded default) and PostgreSQL.
//!
//! Both run the same runtime queries through sqlx's `Any` driver: `$n` placeholders,
//! `ON CONFLICT … RETURNING`, integer times and JSON as text work alike on both, so
//! there is one implementation to test instead of two that drift. Only the schema
//! differs (one migration folder per dialect) and a few statements branch on
//! [`Dialect`].

pub(crate) mod accounts;
mod alert_groups;
mod alert_read;
mod alerts;
mod annotations;
mod attention;
pub(crate) mod audit;
pub(crate) mod baseline;
mod chart_read;
mod chart_tiles;
mod compare;
mod float_bind;
pub mod github;
mod holidays;
mod id_cache;
mod ingest;
mod ingest_batch;
mod ingest_followup;
mod ingest_keys;
mod ingest_pg;
mod ingest_rows;
pub mod metric_sources;
pub(crate) mod notifications;
mod perf_job_read;
mod perf_job_submit;
mod perf_job_work;
pub mod perf_jobs;
mod projects;
pub mod queue;
mod queue_delivery;
mod queue_read;
mod read;
pub mod rollups;
mod rows;
pub mod run_marks;
pub(crate) mod sessions;
mod sqlite_config;
mod suspects;
pub(crate) mod testing;
mod threshold_rules;
pub(crate) mod tickets;
pub(crate) mod tokens;
pub(crate) mod triage;
mod write_tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use alert_read::AlertMark;
pub(crate) use alerts::{
    lock_group as alerts_lock_group, lock_project_for_triage as alerts_lock_project,
};
pub use alerts::{DetectPoint, Matching, NewAlert, UpsertCounts};
pub use attention::RecentBranch;
pub use chart_read::LinePoints;
pub use compare::{MainLevel, ReleaseRow, SideRun};
pub use ingest::{IngestOptions, StoredRun};
pub use projects::NewProject;
pub use queue_delivery::{AttemptRecord, DeliveryTarget};
pub use read::{PointFilter, PointPage};
pub use threshold_rules::StoredRule;
pub use write_tx::WriteTx;
use write_tx::{sqlite_writer, take_turn, SqliteWriter};

use id_cache::IdCache;
use ingest_batch::IngestQueue;
use std::sync::Arc;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The storage handle. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// SQLite's one writer connection (`write_tx.rs`); PostgreSQL writes use the pool.
    writer: Option<SqliteWriter>,
    dialect: Dialect,
    /// Ids of projects, testbeds, branches, measures and series (`id_cache.rs`).
    ids: Arc<IdCache>,
    /// Submissions waiting to be written together on SQLite (`ingest_batch.rs`).
    ingest_queue: Arc<IngestQueue>,
    /// Retry policies of job kinds, set at start-up (`crate::queue::retry`).
    retry_policies: Arc<crate::queue::retry::Policies>,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies migrations.
    /// A SQLite file is created when missing; it runs in WAL mode with foreign keys on.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        if dialect == Dialect::Sqlite {
            sqlite_config::configure_once();
        }
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = pool_options(dialect, 4)
            .max_connections(match dialect {
                Dialect::Sqlite => 4,
                Dialect::Postgres => 10,
            })
            .connect_with(opts.clone())
            .await?;
        match dialect {
            Dialect::Sqlite => SQLITE_MIGRATOR.run(&pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATOR.run(&pool).await?,
        }
        let writer = match dialect {
            Dialect::Sqlite => {
                let mut conn = opts.connect().await?;
                sqlite_pragmas(&mut conn, WRITER_CACHE_KIB).await?;
                Some(sqlite_writer(conn))
            }
            Dialect::Postgres => None,
        };
        Ok(Self {
            pool,
            writer,
            dialect,
            ids: Arc::default(),
            ingest_queue: Arc::default(),
            retry_policies: Arc::default(),
        })
    }

    /// Starts a write transaction. SQLite's default deferred transactions deadlock when
    /// two of them read and then both try to write (the second fails at once with
    /// "database is locked", whatever the busy timeout); `BEGIN IMMEDIATE` takes the
    /// write lock up front, after this process's writers have queued for their turn
    /// (see `write_tx.rs`).
    #[track_caller]
    pub fn begin_write(&self) -> impl std::future::Future<Output = Result<WriteTx>> + Send + '_ {
        let at = std::panic::Location::caller();
        async move {
            match &self.writer {
                Some(w) => WriteTx::begin_sqlite(take_turn(w).await, at).await,
                None => Ok(WriteTx::Postgres(self.pool.begin().await?)),
            }
        }
    }

    /// Sets how jobs of `kind` queued from now on are retried (the server applies its
    /// webhook settings here).
    pub fn set_retry_policy(&self, kind: &str, p: crate::queue::retry::RetryPolicy) {
        self.retry_policies.set(kind, p);
    }

    pub(crate) fn retry_policy(
        &self,
        kind: &str,
        default: crate::queue::retry::RetryPolicy,
    ) -> crate::queue::retry::RetryPolicy {
        self.retry_policies.get(kind, default)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The reading pool: for the store's own queries only (SQL lives under `store/`;
    /// tests reach rows through `crate::testing`).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Total rows in the tables a submission writes: lets tests prove that a rejected
    /// submission stored nothing.
    pub async fn row_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for table in [
            "projects",
            "testbeds",
            "measures",
            "series",
            "branches",
            "commits",
            "branch_commits",
            "runs",
            "measurements",
            "measurement_samples",
            "annotations",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&self.pool)
                .await?;
            out.push((table.to_string(), n));
        }
        Ok(out)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A pooled PostgreSQL connection idle longer than this is pinged before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

/// Pool settings shared by the reading pool and the SQLite writer.
fn pool_options(dialect: Dialect, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        // An embedded database cannot drop a connection under us: never ping it. On
        // PostgreSQL a ping before every acquire was a round trip per transaction and
        // per read (8.7 % of the server's CPU while ingesting, docs/benchmarks.md); a
        // connection used within the last few seconds is alive (sqlx also pings it when
        // it comes back to the pool), so only one idle for longer (a database restart
        // may have cut it) is pinged, and replaced when the ping fails.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if dialect == Dialect::Postgres && meta.idle_for > PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    sqlite_pragmas(conn, READER_CACHE_KIB).await?;
                }
                Ok(())
            })
        })
}

/// Page cache of the one writer connection, in KiB: it keeps the pages new runs are
/// appended to (the tail of each series in the measurement tables and the indexes),
/// a working set that does not grow with the history.
const WRITER_CACHE_KIB: u32 = 8 * 1024;

/// Page cache of each reading connection, in KiB. Reads scan whole series and
/// projects, so a reader's cache fills to its cap as the database grows; a large cap
/// (32 MB each, as before) made the server's memory grow with the data for minutes
/// (docs/benchmarks.md, "Soak"). Pages a reader misses come from the OS file cache.
const READER_CACHE_KIB: u32 = 2 * 1024;

/// SQLite's whole heap in this process, in MiB (a process-wide setting; every
/// connection sets the same value). Above the limit SQLite frees unused cache pages
/// before it allocates, so the page caches above (16 MiB if all were full) hold what
/// was used last, and the memory of sorts, window functions and their temporary
/// tables, which comes and goes with each long-history read, borrows from them
/// instead of adding to them. At 24 MiB SQLite's use was still climbing towards the
/// limit for five minutes of a soak as the database grew, and the process's RSS with
/// it (max/min 1.32 after the warm-up); at 12 MiB it reaches the limit within the
/// first minute and stays there (1.17) with no slower answers (docs/benchmarks.md,
/// "Soak"). `PERFWATCH_SQLITE_HEAP_MIB` sets another value.
const SOFT_HEAP_LIMIT_MIB: u64 = 12;

/// The `soft_heap_limit` pragma for [`SOFT_HEAP_LIMIT_MIB`] or its override.
fn soft_heap_limit_pragma() -> &'static str {
    static PRAGMA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PRAGMA.get_or_init(|| {
        let mib = std::env::var("PERFWATCH_SQLITE_HEAP_MIB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(SOFT_HEAP_LIMIT_MIB);
        format!("PRAGMA soft_heap_limit = {}", mib * 1024 * 1024)
    })
}

/// WAL lets readers run beside the one writer; foreign keys are off by default in
/// SQLite; the busy timeout makes a writer outside this process wait instead of
/// failing; a fixed page cache per connection (`cache_kib`) keeps memory independent
/// of the data size; temporary storage in a file, because the bundled SQLite keeps it
/// in memory by default, so a sort larger than the cache (a window over a whole
/// project's history) grew the heap with the data instead of spilling; a checkpoint
/// every 10,000 WAL pages (not 1,000) writes each page changed by many runs once
/// instead of every few runs.
async fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    cache_kib: u32,
) -> std::result::Result<(), sqlx::Error> {
    let cache = format!("PRAGMA cache_size = -{cache_kib}");
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA busy_timeout = 10000",
        "PRAGMA synchronous = NORMAL",
        cache.as_str(),
        "PRAGMA temp_store = FILE",
        "PRAGMA wal_autocheckpoint = 10000",
        soft_heap_limit_pragma(),
    ] {
        conn.execute(sqlx::AssertSqlSafe(pragma)).await?;
    }
    Ok(())
}

/// `items` in slices of at most `max` whose lengths are powers of two (largest first),
/// for statements with one placeholder group per item (`VALUES` rows, `IN` lists).
///
/// sqlx keeps each connection's last 100 distinct statements prepared, and SQLite
/// holds a prepared statement's program in the server's memory: about 1 KB per bound
/// value, so a 1,000-row `VALUES` costs megabytes. Cut to the exact length, every
/// batch size became a statement of its own, and the caches filled over minutes as new
/// sizes came along (the soak's RSS grew with them; docs/benchmarks.md, "Soak"). In
/// powers of two, a statement family has at most log2(`max`) + 1 shapes, each prepared
/// once per connection and reused.
pub(crate) fn shaped_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let max = max.max(1);
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = rest.len().min(max);
        // The largest power of two not above `len`.
        let take = 1usize << (usize::BITS - 1 - len.leading_zeros());
        let (head, tail) = rest.split_at(take);
        rest = tail;
        Some(head)
    })
}

/// `VALUES (…), (…)` for `rows` rows of `cols` values, for a statement whose only
/// parameters are these values.
///
/// PostgreSQL gets `$1, $2, …`. SQLite gets anonymous `?`: sqlx resolves each numbered
/// parameter by asking SQLite for its name, a linear search, so binding a statement of
/// n numbered parameters costs n² — the largest single cost of ingest when measured
/// (docs/benchmarks.md) — while anonymous ones bind in order for free.
pub(crate) fn values_rows(dialect: Dialect, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => s.push('?'),
                Dialect::Postgres => {
                    s.push('$');
                    s.push_str(&(1 + r * cols + c).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

/// Whether an error is a foreign-key violation (both databases).
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_foreign_key_violation()
                || db.message().contains("FOREIGN KEY constraint failed")
                || db.code().as_deref() == Some("23503")
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation (both databases).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.message().contains("UNIQUE constraint failed")
                || db.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::shaped_chunks;

    #[test]
    fn shaped_chunks_keep_every_item_in_order_in_few_shapes() {
        let mut shapes = std::collections::BTreeSet::new();
        for n in 0..=1100usize {
            let items: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = shaped_chunks(&items, 256).collect();
            let joined: Vec<usize> = chunks.concat();
            assert_eq!(joined, items, "n = {n}");
            for c in &chunks {
                assert!(
                    c.len().is_power_of_two() && c.len() <= 256,
                    "n = {n}: {}",
                    c.len()
                );
                shapes.insert(c.len());
            }
        }
        // 1, 2, 4, …, 256: nine statements per family, whatever the batch sizes.
        assert_eq!(shapes.len(), 9);
        // A cap that is not a power of two: chunks of its largest power of two.
        let items = [0u8; 1000];
        assert!(shaped_chunks(&items, 500).all(|c| c.len() <= 256));
        assert_eq!(shaped_chunks(&items, 0).count(), 1000);
    }
}
