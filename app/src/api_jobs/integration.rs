//! The integration page's server functions (admins of the project).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server;
use super::*;
use crate::api_error::AppError;

/// A project's integration settings (admins of the project), without secrets.
#[server(prefix = "/fn", endpoint = "integration_page")]
pub async fn fetch_integration(slug: String) -> Result<IntegrationPage, AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let project = store.project(&slug).await.map_err(AppError::from)?;
    crate::api_ctx::actor()
        .require(Right::Admin, Some(project.id))
        .map_err(AppError::from)?;
    let view = perfwatch_backend::perf::integration::view(&store, &slug)
        .await
        .map_err(AppError::from)?;
    Ok(IntegrationPage {
        slug,
        integration: view,
        webhook_url: format!("{}/api/v1/github/webhook", server::request_origin()),
    })
}

pub use save::*;

/// The save function takes one argument per form field.
mod save {
    #![allow(clippy::too_many_arguments)]
    use crate::api_error::AppError;
    use leptos::prelude::*;

    /// Saves the integration form (admins of the project). Secret fields left empty keep
    /// the stored value; other fields replace it.
    #[server(prefix = "/fn", endpoint = "save_integration")]
    pub async fn save_integration(
        slug: String,
        repo: String,
        webhook_secret: String,
        token: String,
        app_id: String,
        installation_id: String,
        app_private_key: String,
        api_base: String,
        clone_url: String,
        master_branches: String,
        commanders: String,
        definition: String,
        concurrency: String,
        reconcile_every_s: String,
    ) -> Result<(), AppError> {
        use perfwatch_backend::accounts::Right;
        use perfwatch_backend::perf::IntegrationInput;
        let store = crate::api_ctx::store()?;
        let project = store.project(&slug).await.map_err(AppError::from)?;
        crate::api_ctx::actor()
            .require(Right::Admin, Some(project.id))
            .map_err(AppError::from)?;
        let key = crate::api_ctx::seal_key()?;
        let text = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let number = |field: &str, s: String| -> Result<Option<i64>, AppError> {
            text(s)
                .map(|t| {
                    t.parse::<i64>()
                        .map_err(|_| AppError::invalid(field, "expected a whole number"))
                })
                .transpose()
        };
        let list = |s: String| -> Vec<String> {
            s.split([',', '\n', ' '])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let input = IntegrationInput {
            repo: repo.trim().to_string(),
            webhook_secret: text(webhook_secret),
            token: text(token),
            app_id: number("app_id", app_id)?,
            installation_id: number("installation_id", installation_id)?,
            app_private_key: text(app_private_key),
            api_base: text(api_base),
            clone_url: text(clone_url),
            master_branches: text(master_branches.clone()).map(|_| list(master_branches)),
            commanders: Some(list(commanders)),
            // An empty definition clears the fallback (the commit's file is then required).
            definition: Some(definition),
            concurrency: number("concurrency", concurrency)?,
            reconcile_every_s: number("reconcile_every_s", reconcile_every_s)?,
        };
        // Which fields were sent, never their values (secrets among them).
        let fields: Vec<&str> = [
            ("repo", true),
            ("webhook_secret", input.webhook_secret.is_some()),
            ("token", input.token.is_some()),
            ("app_id", input.app_id.is_some()),
            ("installation_id", input.installation_id.is_some()),
            ("app_private_key", input.app_private_key.is_some()),
            ("api_base", input.api_base.is_some()),
            ("clone_url", input.clone_url.is_some()),
            ("master_branches", input.master_branches.is_some()),
            ("commanders", true),
            ("definition", true),
            ("concurrency", input.concurrency.is_some()),
            ("reconcile_every_s", input.reconcile_every_s.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, sent)| sent.then_some(f))
        .collect();
        perfwatch_backend::perf::integration::put(&store, &key, &slug, input)
            .await
            .map_err(AppError::from)?;
        let audit = crate::api_ctx::audit();
        let details = serde_json::json!({ "fields": fields });
        store
            .audit_after(audit.entry(
                "github.integration",
                format!("projects/{slug}/github"),
                details,
            ))
            .await;
        Ok(())
    }
}
