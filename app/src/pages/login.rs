//! `/login`: a plain form posted to `/auth/login` (works without JavaScript); the
//! server sets the session cookie and sends the browser on to `next`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let q = use_query_map();
    let next = move || q.read().get("next").unwrap_or_else(|| "/".into());
    let error = move || q.read().get("error");
    let retry = move || q.read().get("retry").unwrap_or_else(|| "a few".into());
    let message = move || {
        error().map(|e| {
            if e == "throttled" {
                format!(
                    "Too many failed attempts: try again in {} seconds.",
                    retry()
                )
            } else {
                "Wrong name or password.".to_string()
            }
        })
    };
    view! {
        <Title text="Log in · perfwatch" />
        <h1>"Log in"</h1>
        {move || message().map(|m| view! { <p class="error" data-testid="login-error">{m}</p> })}
        <form method="post" action="/auth/login" class="login">
            <input type="hidden" name="next" value=next />
            <label>"Name "<input name="name" autocomplete="username" required /></label>
            <label>"Password "<input name="password" type="password" autocomplete="current-password" required /></label>
            <button type="submit">"Log in"</button>
        </form>
        <form method="post" action="/auth/logout" class="logout">
            <button type="submit">"Log out"</button>
        </form>
    }
}
