//! Test support shared by the backend's and the server's integration tests: a fresh,
//! empty database of either kind. PostgreSQL comes from `TEST_DATABASE_URL` (a server
//! the tests may create databases on); without it the PostgreSQL variants fail loudly,
//! they are never skipped.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Store;

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
            let base = match admin.rfind('/') {
                Some(i) if admin[..i].contains("://") && i > admin.find("://").unwrap() + 2 => {
                    &admin[..i]
                }
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
