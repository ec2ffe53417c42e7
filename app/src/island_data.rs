//! The data of an island. Islands do not load their data with resources: the page
//! (server-only) loads it and passes it as a prop, which Leptos serialises into the
//! island's HTML. In the browser the island reads it again when its key changes (an
//! action finished, a filter changed), through the same server function.

use std::future::Future;

use leptos::prelude::*;

/// A signal holding `initial`, replaced by `fetch(key)` each time `key()` changes
/// after the island hydrated (effects run only in the browser). A failed read keeps
/// the shown data.
pub fn refreshed<T, K, E, Fut>(
    initial: T,
    key: impl Fn() -> K + 'static,
    fetch: impl Fn(K) -> Fut + 'static,
) -> RwSignal<T>
where
    T: Send + Sync + 'static,
    K: PartialEq + Clone + 'static,
    Fut: Future<Output = Result<T, E>> + 'static,
{
    let data = RwSignal::new(initial);
    Effect::new(move |seen: Option<K>| {
        let k = key();
        if seen.is_some_and(|s| s != k) {
            let read = fetch(k.clone());
            leptos::task::spawn_local(async move {
                if let Ok(t) = read.await {
                    data.set(t);
                }
            });
        }
        k
    });
    data
}
