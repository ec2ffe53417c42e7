//! `/`: what needs attention, then every project with its size and last activity.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::fetch_projects;
use crate::format::datetime;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let projects = crate::codec::resource(|| (), |_| fetch_projects());
    view! {
        <Title text="Projects · perfwatch" />
        <super::attention::AttentionPanel />
        <h1>"Projects"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Ok(list) if list.is_empty() => view! {
                        <p>"No projects yet. Submit a run with " <code>"perfwatch submit"</code> " or load the demo with " <code>"perfwatch demo"</code> "."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="projects">
                            <thead><tr><th>"Project"</th><th>"Series"</th><th>"Runs"</th><th>"Last run"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| view! {
                                    <tr>
                                        <td><a href=format!("/projects/{}", p.slug)>{p.name.clone()}</a>
                                            <span class="muted">{format!(" {}", p.slug)}</span></td>
                                        <td>{p.series_count}</td>
                                        <td>{p.run_count}</td>
                                        <td>{p.last_run_at.map(datetime).unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
