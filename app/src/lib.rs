//! perfwatch-app: the UI. Pages are rendered on the server (axum + Leptos SSR) in
//! islands mode: only the `#[island]` components (charts, forms, live filters) ship to
//! the browser and hydrate there; the rest of each page stays server-rendered HTML.

pub mod api;
pub mod api_account;
pub mod api_alerts;
pub mod api_attention;
pub mod api_compare;
#[cfg(feature = "ssr")]
pub mod api_ctx;
pub mod api_deploys;
pub mod api_error;
pub mod api_jobs;
pub mod api_metric_query;
pub mod api_saved_queries;
pub mod api_thresholds;
pub mod api_triage;
pub mod chart;
pub mod codec;
pub mod components;
pub mod enhance;
pub mod format;
pub mod marks;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod security;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="perfwatch" href="/pkg/perfwatch.css" />
        <Title text="perfwatch" />
        <Router>
            <header class="top">
                <A href="/">"perfwatch"</A>
                <nav>
                    <A href="/">"Projects"</A>
                    <A href="/alerts">"Alerts"</A>
                    <A href="/queue">"Queue"</A>
                    // Tokens and webhook deliveries; the pages themselves check the role.
                    <A href="/admin/tokens">"Admin"</A>
                    <a href="/account">"Account"</a>
                    <a href="/login">"Log in"</a>
                </nav>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="error">"Page not found."</p> }>
                    <Route path=path!("/") view=pages::projects::ProjectsPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug") view=pages::project::ProjectPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/compare") view=pages::compare::ComparePage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/releases") view=pages::releases::ReleasesPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/integration") view=pages::integration::IntegrationPage ssr=SsrMode::Async />
                    <Route path=path!("/queue") view=pages::queue::QueuePage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/deploys") view=pages::deploy::DeploysPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/deploys/trend") view=pages::release_trend::ReleaseTrendPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/deploys/:id") view=pages::deploy::DeployPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:slug/metric-sources") view=pages::metric_sources::MetricSourcesPage ssr=SsrMode::Async />
                    <Route path=path!("/jobs/:id") view=pages::job::JobPage ssr=SsrMode::Async />
                    <Route path=path!("/series/:id") view=pages::series::SeriesPage ssr=SsrMode::Async />
                    <Route path=path!("/runs/:id") view=pages::run::RunPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts") view=pages::alerts::AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/groups/:id") view=pages::alert_group::AlertGroupPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view=pages::admin::TokensPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/deliveries") view=pages::admin::DeliveriesPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=pages::audit::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Browser entry: sets up the reactive runtime; Leptos' island script then hydrates
/// each `<leptos-island>` of the page through its own exported function.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    enhance::install();
    marks::mark(marks::HYDRATED);
}
