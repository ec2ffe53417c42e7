//! Set-up that the integration tests repeat: a project, and runs submitted in the
//! native JSON format. A test that finds its set-up refused fails here, saying which
//! step refused it.

use serde_json::Value;

use crate::accounts::Actor;
use crate::ingest::ingest_run;
use crate::store::{IngestOptions, NewProject, StoredRun};
use crate::Store;

/// Creates project `slug` with no name, main branch or repository; returns its id.
pub async fn project(store: &Store, slug: &str) -> i64 {
    store
        .create_project(&NewProject {
            slug: slug.into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("create the test project")
}

/// Parses, validates and ingests `run` (native JSON format) with the default options,
/// follow-up work (detection) included, as `ingest_run` does for the API.
pub async fn submit(store: &Store, run: &Value) -> StoredRun {
    let run = perfwatch_core::validate::parse_run_json(run.to_string().as_bytes())
        .expect("the test run parses");
    let run = perfwatch_core::validate::validate_run(run).expect("the test run is valid");
    ingest_run(store, &run, &IngestOptions::default())
        .await
        .expect("ingest the test run")
}

/// The actor of a new token named `name` with every scope (ingest, triage, admin) on
/// every project, as a request carrying that token is.
pub async fn admin(store: &Store, name: &str) -> Actor {
    let (_, secret) = crate::tokens::create_token(store, name, None)
        .await
        .expect("create the test token");
    let token = crate::tokens::verify_token(store, &secret)
        .await
        .expect("read the test token")
        .expect("the new token is valid");
    Actor::Token(token)
}

/// Every alert of project `slug`, as the alerts page lists them (no other filter).
pub async fn alerts(store: &Store, slug: &str) -> Vec<perfwatch_core::alerts::AlertView> {
    store
        .list_alerts(&perfwatch_core::alerts::AlertFilter {
            project: Some(slug.into()),
            ..Default::default()
        })
        .await
        .expect("list the project's alerts")
}
