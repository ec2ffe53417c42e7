//! Test support, shared by the integration and browser tests: start the real server
//! on 127.0.0.1:0 against a fresh database (a SQLite temp file, or a new database in
//! the PostgreSQL cluster named by `TEST_DATABASE_URL`).

use std::net::SocketAddr;

use perfwatch_backend::accounts::Role;
pub use perfwatch_backend::testing::{fresh_database, Db};
use perfwatch_backend::Store;
use reqwest::header;

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
    /// Stops the server's background workers when the test ends.
    stop: tokio_util::sync::CancellationToken,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
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
    let (_, token) = perfwatch_backend::tokens::create_token(&store, "test", None)
        .await
        .expect("create a token");
    let mut app = spawn_on(&url, tweak).await;
    app.token = token;
    app.sqlite_file = sqlite_file;
    app
}

/// Starts another server on an existing database (several servers, one database).
/// Its `token` is empty: use the first server's.
pub async fn spawn_on(url: &str, tweak: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let store = Store::connect(url).await.expect("open the test database");
    let mut config = ServerConfig::for_database(url);
    tweak(&mut config);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let stop = tokio_util::sync::CancellationToken::new();
    let serve_stop = stop.clone();
    let server = tokio::spawn(async move {
        if let Err(e) = crate::serve_until(
            config,
            move |addr| {
                let _ = tx.send(addr);
            },
            serve_stop,
        )
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
        token: String::new(),
        database_url: url.to_string(),
        server,
        stop,
        sqlite_file: None,
    }
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// The password of every user the tests create.
pub const PASSWORD: &str = "correct horse";

/// Projects `drv` and `other` (repository github.com/example/driver), the two projects
/// the rights tests tell apart.
pub async fn create_rights_projects(store: &Store) {
    for slug in ["drv", "other"] {
        store
            .create_project(&perfwatch_backend::store::NewProject {
                slug: slug.into(),
                name: None,
                main_branch: None,
                repo_url: Some("https://github.com/example/driver".into()),
            })
            .await
            .expect("create a project");
    }
}

/// Users for the rights tests: `viewer`, `triager` and `admin` with those roles on
/// every project, and `drvless`, a triager of project `other` only (which must exist).
pub async fn create_role_users(store: &Store) {
    for (name, role) in [
        ("viewer", Role::Viewer),
        ("triager", Role::Triager),
        ("admin", Role::Admin),
    ] {
        perfwatch_backend::accounts::create_user(store, name, PASSWORD, Some(role))
            .await
            .expect("create a user");
    }
    let other = perfwatch_backend::accounts::create_user(store, "drvless", PASSWORD, None)
        .await
        .expect("create a user");
    store
        .set_membership(other, Some("other"), Role::Triager)
        .await
        .expect("membership in project other");
}

impl TestApp {
    /// Signs `name` in through the login form, as a browser does (same-origin form
    /// post), and returns the session cookie's value; the cookie must be HttpOnly and
    /// SameSite=Lax.
    pub async fn login(&self, name: &str) -> String {
        let res = no_redirects()
            .post(format!("{}/auth/login", self.base))
            .header(header::ORIGIN, &self.base)
            .form(&[("name", name), ("password", PASSWORD)])
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status().as_u16(), 303, "login of {name}");
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .expect("a session cookie")
            .to_str()
            .expect("an ASCII cookie")
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie
            .split(';')
            .next()
            .and_then(|c| c.strip_prefix("pw_session="))
            .expect("the pw_session cookie")
            .to_string()
    }

    /// GETs `path` (not following redirects), with the session cookie when given:
    /// the status and the body.
    pub async fn page(&self, session: Option<&str>, path: &str) -> (u16, String) {
        let mut r = no_redirects().get(format!("{}{path}", self.base));
        if let Some(s) = session {
            r = r.header(header::COOKIE, format!("pw_session={s}"));
        }
        let res = r.send().await.expect("page request");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}
