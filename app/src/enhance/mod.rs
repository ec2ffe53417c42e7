//! Progressive enhancement of the server-rendered pages, without views in the wasm.
//! Pages are server-only components; instead of shipping a page body as an island
//! (whose every view type then ships too), a page marks its HTML and this module,
//! installed once by `hydrate()`, listens at the window (events bubble, so it also
//! covers HTML swapped in later):
//!
//! - `<form method="post" action="/fn/…" data-post data-result="ID" data-ok="… {} …">`:
//!   posted with `fetch` (urlencoded, like before hydration), then the page's regions
//!   are read again and the answer is written into `#ID` (`post`). Before hydration
//!   the same form is a plain post, which the server function answers with a redirect
//!   back to the page.
//! - `data-region="NAME"`: a part of the page that is replaced by the same region of
//!   a fresh server render of the URL after an action or a same-page navigation
//!   (`regions`).
//! - `data-nav` around links and `data-live` on a text box of a GET form: same-page
//!   navigation with the History API, the rows coming from the server (`nav`).
//! - `input.pick` check boxes and a `data-picks` form: the alerts' bulk form (`picks`).
//! - `button[data-short-link]`: the comparison's "Copy short link" (`short_link`).

#[cfg(feature = "hydrate")]
mod dom;
#[cfg(feature = "hydrate")]
mod nav;
#[cfg(feature = "hydrate")]
mod picks;
#[cfg(feature = "hydrate")]
mod post;
#[cfg(feature = "hydrate")]
pub mod regions;
#[cfg(feature = "hydrate")]
mod short_link;

/// Installs the listeners (once, from `hydrate()`).
#[cfg(feature = "hydrate")]
pub fn install() {
    use leptos::prelude::window_event_listener_untyped as listen;
    // The handles are dropped on purpose: the listeners live as long as the page.
    let _ = listen("submit", post::on_submit);
    let _ = listen("click", |ev| {
        if !short_link::on_click(&ev) {
            nav::on_click(&ev);
        }
    });
    let _ = listen("input", nav::on_input);
    let _ = listen("change", picks::on_change);
    let _ = listen("popstate", |_| nav::follow_location());
    regions::start_timers();
    picks::update();
}

/// Reads the page's regions again from the server (after a state change seen by an
/// island); a no-op on the server.
pub fn refresh_regions() {
    #[cfg(feature = "hydrate")]
    regions::refresh_current();
}

/// Shows `state` in every badge of job `job` (`data-job-state`); a no-op on the
/// server.
pub fn show_job_state(job: i64, state: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(list) = dom::document().query_selector_all(&format!("[data-job-state=\"{job}\"]")) {
        use wasm_bindgen::JsCast;
        for e in
            (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
        {
            e.set_text_content(Some(state));
            let _ = e.set_attribute("class", &crate::pages::job::state_class(state));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (job, state);
}

/// The element a server-function form writes its answer into (`data-result="ID"`).
/// Before hydration the form is a plain post: a failure comes back as a redirect to the
/// page with the error in the URL, which the server shows here (Leptos'
/// `ServerAction` reads it from the request), so the error is next to the form either
/// way.
pub fn result_slot<S>(id: &'static str, err_testid: Option<&'static str>) -> impl leptos::IntoView
where
    S: leptos::server_fn::ServerFn<Error = crate::api_error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Output: Send + Sync + 'static,
{
    use leptos::prelude::*;
    let err = ServerAction::<S>::new().value().with_untracked(|v| {
        v.as_ref()
            .and_then(|r| r.as_ref().err())
            .map(ToString::to_string)
    });
    view! {
        <p id=id>{err.map(|e| view! { <span class="error" data-testid=err_testid>{e}</span> })}</p>
    }
}
