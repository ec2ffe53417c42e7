//! The process's shutdown signal: SIGTERM (what service managers and container
//! runtimes send) or Ctrl-C cancel one token that the server and its workers watch.

use tokio_util::sync::CancellationToken;

/// Cancels `stop` at the first SIGTERM or Ctrl-C.
pub async fn on_signal(stop: CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
        _ = stop.cancelled() => return,
    }
    stop.cancel();
}
