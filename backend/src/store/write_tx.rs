//! Write transactions: on SQLite one long-lived writer connection, taken in turn.
//!
//! SQLite has a single writer. Three things make writing through a pool slow, all
//! measured (docs/benchmarks.md): a connection that loses the race for the write lock
//! sleeps 1, 2, 5, 10… ms in SQLite's busy handler while the lock sits free; a pooled
//! connection drops its page cache whenever another connection wrote since it last
//! looked, so every run re-read the pages it was about to change; and sqlx pings a
//! pooled connection each time it returns to the pool. So SQLite writes go through one
//! connection held for the life of the store, behind an async mutex: writers queue and
//! are woken the moment the previous one finishes. PostgreSQL has row locks and uses
//! its pool.

use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Any, AnyConnection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::Result;

/// The SQLite writer connection.
pub struct WriterConn {
    conn: AnyConnection,
    /// A transaction was left open (its `WriteTx` dropped without commit or rollback,
    /// e.g. on an error): the next writer rolls it back first.
    open: bool,
}

impl std::fmt::Debug for WriterConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterConn")
            .field("open", &self.open)
            .finish()
    }
}

pub(crate) type SqliteWriter = Arc<Mutex<WriterConn>>;

pub(crate) fn sqlite_writer(conn: AnyConnection) -> SqliteWriter {
    Arc::new(Mutex::new(WriterConn { conn, open: false }))
}

/// The writer's turn, before any transaction is begun (the ingest batcher looks at its
/// queue while holding it).
pub(crate) struct WriterTurn(OwnedMutexGuard<WriterConn>);

pub(crate) async fn take_turn(writer: &SqliteWriter) -> WriterTurn {
    WriterTurn(writer.clone().lock_owned().await)
}

/// A write transaction; derefs to the connection, so `&mut *tx` executes queries.
/// Dropping it without `commit` rolls it back.
pub enum WriteTx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Any>),
}

/// The writer connection inside a transaction. Dropped while still open (an error
/// returned half-way), it rolls back at once in a spawned task that keeps the turn
/// until done, so the write lock is not held for other processes until this
/// process's next write. Without a runtime to spawn on, the next writer rolls back.
pub struct SqliteTx {
    guard: Option<OwnedMutexGuard<WriterConn>>,
    held: HeldLock,
}

/// Where a SQLite write transaction began and since when: the write lock is the
/// database's alone, so a transaction held long stalls every other writer, those of
/// other processes (a `perfwatch worker`) included, which give up after the 10 s busy
/// timeout. Logged when held longer than `SLOW_WRITE`, naming the code that began it.
struct HeldLock {
    since: Instant,
    at: &'static Location<'static>,
}

/// A write transaction held longer than this is logged (warn).
const SLOW_WRITE: Duration = Duration::from_secs(1);

impl HeldLock {
    fn report(&self) {
        let held = self.since.elapsed();
        if held >= SLOW_WRITE {
            tracing::warn!(
                held_ms = held.as_millis() as u64,
                began_at = %self.at,
                "a SQLite write transaction held the write lock for over {} s",
                SLOW_WRITE.as_secs()
            );
        }
    }
}

impl SqliteTx {
    fn writer(&mut self) -> &mut WriterConn {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        self.held.report();
        let Some(mut w) = self.guard.take() else {
            return;
        };
        if !w.open {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if w.conn.execute("ROLLBACK").await.is_ok() {
                    w.open = false;
                }
            });
        }
    }
}

impl WriteTx {
    /// `at`: the code that asked for the transaction, named when it holds the lock long.
    pub(crate) async fn begin_sqlite(
        turn: WriterTurn,
        at: &'static Location<'static>,
    ) -> Result<Self> {
        let mut w = turn.0;
        if w.open {
            // Whatever failed left it open; nothing of it was committed.
            w.conn.execute("ROLLBACK").await.ok();
            w.open = false;
        }
        w.conn.execute("BEGIN IMMEDIATE").await?;
        w.open = true;
        Ok(Self::Sqlite(SqliteTx {
            guard: Some(w),
            held: HeldLock {
                since: Instant::now(),
                at,
            },
        }))
    }

    /// Rolls back and begins again without giving up the turn (SQLite); on
    /// PostgreSQL a new transaction from the pool.
    pub(crate) async fn restart(self, pool: &sqlx::AnyPool) -> Result<Self> {
        match self {
            Self::Sqlite(mut t) => {
                let w = t.writer();
                w.conn.execute("ROLLBACK").await?;
                w.open = false;
                w.conn.execute("BEGIN IMMEDIATE").await?;
                w.open = true;
                Ok(Self::Sqlite(t))
            }
            Self::Postgres(tx) => {
                tx.rollback().await?;
                Ok(Self::Postgres(pool.begin().await?))
            }
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Self::Sqlite(mut t) => {
                let w = t.writer();
                w.conn.execute("COMMIT").await?;
                w.open = false;
            }
            Self::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Self::Sqlite(mut t) => {
                let w = t.writer();
                w.conn.execute("ROLLBACK").await?;
                w.open = false;
            }
            Self::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Sqlite(t) => &t.guard.as_ref().expect("held until dropped").conn,
            Self::Postgres(tx) => tx,
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Sqlite(t) => &mut t.writer().conn,
            Self::Postgres(tx) => tx,
        }
    }
}
