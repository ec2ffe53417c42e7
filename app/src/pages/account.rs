//! `/account`: who is logged in, their roles and sessions, and "Log out everywhere" —
//! a plain form post to `/auth/logout-all` (works without JavaScript) that ends every
//! session of the user; API tokens are not sessions and keep working.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api_account::fetch_account;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = crate::codec::resource(|| (), |_| fetch_account());
    view! {
        <Title text="Account · perfwatch" />
        <h1>"Account"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(a)) => view! {
                        <p data-testid="account-name">"Logged in as " <strong>{a.name}</strong>
                            " (" {if a.roles.is_empty() { "no role".to_string() } else { a.roles.join(", ") }} ")"</p>
                        <p data-testid="session-count">{format!(
                            "{} active session{} (browsers where you are logged in).",
                            a.sessions, if a.sessions == 1 { "" } else { "s" })}</p>
                        <form method="post" action="/auth/logout-all" class="logout-all">
                            <button type="submit" data-testid="logout-all">"Log out everywhere"</button>
                        </form>
                        <p class="note">"Ends every session of your account, this one included. API tokens keep working: an administrator revokes them on the tokens page."</p>
                        <form method="post" action="/auth/logout" class="logout">
                            <button type="submit">"Log out"</button>
                        </form>
                    }.into_any(),
                    Ok(None) => view! {
                        <p data-testid="not-logged-in">"You are not logged in. "<a href="/login?next=/account">"Log in"</a></p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{crate::pages::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
