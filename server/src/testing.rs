//! Test support, shared by the integration and browser tests: start the real server
//! on 127.0.0.1:0 against a fresh database (a SQLite temp file, or a new database in
//! the PostgreSQL cluster named by `TEST_DATABASE_URL`).

use std::net::SocketAddr;

pub use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;

use crate::config::ServerConfig;

pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// A second handle on the same database, for assertions.
    pub store: Store,
    /// A global API token.
    pub token: String,
    pub database_url: String,
    server: tokio::task::JoinHandle<()>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(f) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
    }
}

/// Starts the server on a fresh database; `tweak` adjusts the configuration.
pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let (url, sqlite_file) = fresh_database(db).await;
    let store = Store::connect(&url).await.expect("open the test database");
    let (_, token) = store
        .create_token("test", None)
        .await
        .expect("create a token");
    let mut config = ServerConfig::for_database(&url);
    tweak(&mut config);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        if let Err(e) = crate::serve(config, move |addr| {
            let _ = tx.send(addr);
        })
        .await
        {
            eprintln!("test server stopped: {e:#}");
        }
    });
    let addr = rx.await.expect("server bound");
    TestApp {
        addr,
        base: format!("http://{addr}"),
        store,
        token,
        database_url: url,
        server,
        sqlite_file,
    }
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}
