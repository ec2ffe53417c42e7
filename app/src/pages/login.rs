//! `/login`: a plain form posted to `/auth/login` (works without JavaScript); the
//! server sets the session cookie and sends the browser on to `next`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let q = use_query_map();
    let next = move || q.read().get("next").unwrap_or_else(|| "/".into());
    let failed = move || q.read().get("error").is_some();
    view! {
        <Title text="Log in · perfwatch" />
        <h1>"Log in"</h1>
        {move || failed().then(|| view! { <p class="error" data-testid="login-error">"Wrong name or password."</p> })}
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
