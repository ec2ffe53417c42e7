//! One storage interface over SQLite (the embedded default) and PostgreSQL.
//!
//! Both run the same runtime queries through sqlx's `Any` driver: `$n` placeholders,
//! `ON CONFLICT … RETURNING`, integer times and JSON as text work alike on both, so
//! there is one implementation to test instead of two that drift. Only the schema
//! differs (one migration folder per dialect) and a few statements branch on
//! [`Dialect`].

mod alerts;
mod annotations;
mod compare;
mod ingest;
mod projects;
mod read;
mod rows;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use alerts::{AlertMark, DetectPoint, NewAlert, StoredRule, UpsertCounts};
pub use compare::{ReleaseRow, SideRun};
pub use ingest::{IngestOptions, StoredRun};
pub use projects::NewProject;
pub use read::PointFilter;

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
    dialect: Dialect,
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
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 4,
                Dialect::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers run beside the one writer; foreign keys are off
                        // by default in SQLite; the busy timeout makes concurrent writers wait
                        // instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        match dialect {
            Dialect::Sqlite => SQLITE_MIGRATOR.run(&pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATOR.run(&pool).await?,
        }
        Ok(Self { pool, dialect })
    }

    /// Starts a write transaction. SQLite's default deferred transactions deadlock when
    /// two of them read and then both try to write (the second fails at once with
    /// "database is locked", whatever the busy timeout); `BEGIN IMMEDIATE` takes the
    /// write lock up front so concurrent writers queue instead.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
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

/// `$start, $start+1, …` placeholders for one row of `cols` values.
pub(crate) fn placeholders(start: usize, cols: usize) -> String {
    let mut s = String::from("(");
    for i in 0..cols {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('$');
        s.push_str(&(start + i).to_string());
    }
    s.push(')');
    s
}

/// `VALUES (…), (…)` for `rows` rows of `cols` values, placeholders from $1.
pub(crate) fn values_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| placeholders(1 + r * cols, cols))
        .collect::<Vec<_>>()
        .join(", ")
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
