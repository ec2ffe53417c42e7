//! Test support shared by the backend's and the server's integration tests: a fresh,
//! empty database of either kind. PostgreSQL comes from `TEST_DATABASE_URL` (a server
//! the tests may create databases on); without it the PostgreSQL variants fail loudly,
//! they are never skipped.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Store;

pub mod seed;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!(
        "pw_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hex::encode(r)
    )
}

/// A URL of a fresh, empty database of the given kind.
pub async fn fresh_database(db: Db) -> (String, Option<std::path::PathBuf>) {
    match db {
        Db::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            (format!("sqlite://{}", path.display()), Some(path))
        }
        Db::Postgres => {
            let admin = std::env::var("TEST_DATABASE_URL").expect(
                "TEST_DATABASE_URL is not set: PostgreSQL tests never skip. Run scripts/test.sh \
                 (it starts a throwaway cluster) or point TEST_DATABASE_URL at a server you may create databases on",
            );
            let name = unique_name();
            use sqlx::Executor;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&admin)
                .await
                .expect("connect to TEST_DATABASE_URL");
            pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create a test database");
            pool.close().await;
            // The server part of the URL: the last '/' after the scheme's "://" starts
            // the database name.
            let base = match (admin.find("://"), admin.rfind('/')) {
                (Some(scheme), Some(i)) if i > scheme + 2 => &admin[..i],
                _ => admin.as_str(),
            };
            (format!("{base}/{name}"), None)
        }
    }
}

/// A store on a fresh database of the given kind, migrations applied.
pub async fn fresh_store(db: Db) -> Store {
    let (url, _) = fresh_database(db).await;
    Store::connect(&url).await.expect("open the test database")
}

/// Declares each named test body once per database: `on_both!(a, b)` makes the tests
/// `a::sqlite` and `a::postgres` (the names CI filters on), each calling `a(store)`
/// with a [`fresh_store`] of that kind on a two-thread runtime. `on_both!(db: a, b)`
/// passes the [`Db`] instead, for bodies that open their own databases or start a
/// server, on tokio's default single-thread test runtime (the server and the client
/// then take turns, as the API tests were written for); `on_both!(db, multi_thread: a)`
/// the same on two threads, for races that need real parallelism;
/// `on_both!(db, worker_threads = 4: a)` on that many threads (a server, a worker
/// and the test's own client at once). PostgreSQL variants are never skipped (see
/// [`fresh_database`]).
#[macro_export]
macro_rules! on_both {
    (db, multi_thread: $($name:ident),* $(,)?) => {
        $crate::on_both!(db, worker_threads = 2: $($name),*);
    };
    (db, worker_threads = $threads:literal: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn sqlite() {
                super::$name($crate::testing::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
            async fn postgres() {
                super::$name($crate::testing::Db::Postgres).await
            }
        }
    )*};
    (db: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::testing::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::testing::Db::Postgres).await
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::testing::fresh_store($crate::testing::Db::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::testing::fresh_store($crate::testing::Db::Postgres).await).await
            }
        }
    )*};
}

/// Rows that tests look at directly, and data they damage or bulk-load. The SQL is in
/// `store/testing.rs`; the product's code never calls these.
pub mod rows {
    use std::collections::HashMap;

    use crate::error::Result;
    use crate::Store;

    /// Per run key of project `slug`: (how many runs carry it, the lowest run id); a
    /// run without a key counts under "".
    pub async fn run_keys(store: &Store, slug: &str) -> Result<HashMap<String, (i64, i64)>> {
        store.testing_run_keys(slug).await
    }

    /// Every stored API token hash.
    pub async fn token_hashes(store: &Store) -> Result<Vec<String>> {
        store.testing_token_hashes().await
    }

    /// Every commit order of every branch (`branch_commits.ord`).
    pub async fn branch_orders(store: &Store) -> Result<Vec<i64>> {
        store.testing_branch_orders().await
    }

    /// How many projects have this slug.
    pub async fn projects_named(store: &Store, slug: &str) -> Result<i64> {
        store.testing_projects_named(slug).await
    }

    /// Deletes the `n` latest runs of a project, as an interrupted load leaves it.
    pub async fn delete_latest_runs(store: &Store, project_id: i64, n: i64) -> Result<()> {
        store.testing_delete_latest_runs(project_id, n).await
    }

    /// Deletes a project's annotation by name.
    pub async fn delete_annotation(store: &Store, project_id: i64, name: &str) -> Result<()> {
        store.testing_delete_annotation(project_id, name).await
    }

    /// Writes any text as a group's own state (checked decoding is tested with it).
    pub async fn set_group_state_text(store: &Store, group_id: i64, text: &str) -> Result<()> {
        store.testing_set_group_state_text(group_id, text).await
    }

    /// Writes any text as a token's scopes.
    pub async fn set_token_scopes_text(store: &Store, token_id: i64, text: &str) -> Result<()> {
        store.testing_set_token_scopes_text(token_id, text).await
    }

    /// Bulk-writes project `long` with one series of `points` points (a spike every
    /// 25,000), much faster than submitting runs; returns the series id.
    pub async fn load_long_series(store: &Store, points: i64) -> Result<i64> {
        store.testing_load_long_series(points).await
    }
}
