//! The id of the request being served, carried in a task-local so that an error
//! answered as "internal error (request <id>)" names the same id as the request's
//! span and its `x-request-id` header, without threading the id through every call.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// A fresh random id: 16 hex digits.
pub fn new_request_id() -> String {
    let mut id = [0u8; 8];
    // getrandom only fails where the OS has no entropy source; an all-zero id still
    // works as a log key, so a failure is not worth failing the request for.
    let _ = getrandom::fill(&mut id);
    hex::encode(id)
}

/// Runs `fut` with `id` as the current request id.
pub async fn with_request_id<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The current request's id, or a fresh one outside a request (a background task, or
/// a task spawned by the request that did not inherit the task-local).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| new_request_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_scoped_id_is_seen_inside_and_a_fresh_one_outside() {
        let inside = with_request_id("abc".into(), async { current_request_id() }).await;
        assert_eq!(inside, "abc");
        let outside = current_request_id();
        assert_eq!(outside.len(), 16);
        assert_ne!(outside, "abc");
    }
}
