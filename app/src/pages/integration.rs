//! `/projects/:slug/integration`: the project's GitHub integration (admins of the
//! project): repository, webhook secret and reporting credentials, master branches,
//! who may command, the fallback job definition and worker settings, and the webhook
//! URL to paste into GitHub. Secrets are write-only: the page says whether one is set
//! and never shows it; an empty secret field keeps the stored value.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api_jobs::{fetch_integration, IntegrationPage as IntegrationData, SaveIntegration};

#[component]
pub fn IntegrationPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = crate::codec::resource(slug, fetch_integration);
    view! {
        <Title text="GitHub integration · perfwatch" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => form_view(p),
                    Err(e) if e.is_refusal() => view! {
                        <h1>"GitHub integration"</h1>
                        <p class="error" data-testid="forbidden">{super::load_error(&e)}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn set_or_not(set: bool) -> &'static str {
    if set {
        "set"
    } else {
        "not set"
    }
}

/// The settings form, a server-function form (`crate::enhance`): after a save the
/// settings are read again.
fn form_view(p: IntegrationData) -> AnyView {
    let i = p.integration.clone();
    let has = i.is_some();
    let get = |f: fn(&perfwatch_core::integration::IntegrationView) -> String| {
        i.as_ref().map(f).unwrap_or_default()
    };
    let repo = get(|i| i.repo.clone());
    let api_base = get(|i| i.api_base.clone());
    let clone_url = get(|i| i.clone_url.clone());
    let masters = get(|i| i.master_branches.join(", "));
    let commanders = get(|i| i.commanders.join(", "));
    let definition = get(|i| i.definition.clone().unwrap_or_default());
    let concurrency = get(|i| i.concurrency.to_string());
    let reconcile = get(|i| i.reconcile_every_s.to_string());
    let app_id = get(|i| i.app_id.map(|a| a.to_string()).unwrap_or_default());
    let installation = get(|i| i.installation_id.map(|a| a.to_string()).unwrap_or_default());
    let reporting = get(|i| i.reporting.clone());
    let secret_set = i.as_ref().is_some_and(|i| i.webhook_secret_set);
    let token_state = match reporting.as_str() {
        "token" => "set",
        "app" => "not used (a GitHub App reports)",
        _ => "not set",
    };
    let key_state = set_or_not(reporting == "app");
    view! {
        <div data-region="integration">
        <p class="crumbs"><a href=format!("/projects/{}", p.slug)>{p.slug.clone()}</a>" · "<a href="/queue">"Job queue"</a></p>
        <h1>"GitHub integration"</h1>
        {(!has).then(|| view! { <p class="note" data-testid="no-integration">"No repository is linked yet: fill in the form to link one."</p> })}
        <section class="triage-controls">
            <strong>"Webhook for GitHub"</strong>
            <span>"Payload URL: "<code class="secret" data-testid="webhook-url">{p.webhook_url.clone()}</code></span>
            <span>"Content type: "<code>"application/json"</code>" · secret: the webhook secret below · events: "
                <code>"push"</code>", "<code>"pull_request"</code>", "<code>"issue_comment"</code>", "<code>"check_run"</code></span>
        </section>
        <form method="post" action=SaveIntegration::url() class="integration-form" data-testid="integration-form"
            data-post data-result="save-result" data-ok="Saved." data-ok-testid="saved" data-err-testid="save-error">
            <input type="hidden" name="slug" value=p.slug.clone() />
            <fieldset>
                <legend>"Repository"</legend>
                <label>"Repository (owner/name) "<input name="repo" required size="30" value=repo /></label>
                <label>"API base URL "<input name="api_base" size="40" value=api_base placeholder="https://api.github.com" /></label>
                <label>"Clone URL "<input name="clone_url" size="50" value=clone_url placeholder="https://github.com/owner/name.git" /></label>
                <label>"Master branches "<input name="master_branches" size="30" value=masters placeholder="the project's main branch" /></label>
            </fieldset>
            <fieldset>
                <legend>"Secrets (never shown again; leave empty to keep)"</legend>
                <label>"Webhook secret "<span class="state" data-testid="secret-state">{set_or_not(secret_set)}</span>" "
                    <input type="password" name="webhook_secret" size="30" autocomplete="off" placeholder="at least 16 characters" /></label>
                <label>"Token "<span class="state" data-testid="token-state">{token_state}</span>" "
                    <input type="password" name="token" size="30" autocomplete="off" /></label>
                <label>"GitHub App id "<input name="app_id" size="10" value=app_id /></label>
                <label>"Installation id "<input name="installation_id" size="12" value=installation /></label>
                <label>"App private key (PEM) "<span class="state" data-testid="key-state">{key_state}</span>
                    <textarea name="app_private_key" rows="3" cols="60" autocomplete="off"></textarea></label>
            </fieldset>
            <fieldset>
                <legend>"Jobs"</legend>
                <label>"Who may command besides owners, members and collaborators (GitHub logins) "
                    <input name="commanders" size="40" value=commanders /></label>
                <label>"Runner slots "<input name="concurrency" size="4" value=concurrency placeholder="1" /></label>
                <label>"Reconcile every (s, 0: off) "<input name="reconcile_every_s" size="6" value=reconcile placeholder="300" /></label>
                <label>"Fallback job definition (.perfwatch.toml, used when a commit has none; empty: none)"
                    <textarea name="definition" rows="8" cols="80">{definition}</textarea></label>
            </fieldset>
            <button type="submit" data-testid="save-integration">"Save"</button>
        </form>
        </div>
        {crate::enhance::result_slot::<SaveIntegration>("save-result", Some("save-error"))}
    }
    .into_any()
}
