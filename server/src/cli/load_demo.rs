//! `perfwatch demo-service`: the identities/groups service examples/groups.toml drives.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use perfwatch_loadgen::demo::{serve, DemoConfig};

#[derive(Debug, Args, Clone)]
pub struct DemoServiceArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Added to every request, in ms.
    #[arg(long, default_value_t = 0.0)]
    pub latency_ms: f64,
    /// Serve at most this many requests at once (the rest wait).
    #[arg(long)]
    pub capacity: Option<usize>,
    /// Answer every n-th request with 503.
    #[arg(long)]
    pub fail_every: Option<u64>,
    /// Stall (everything) for --stall-ms when the n-th request arrives.
    #[arg(long)]
    pub stall_at: Option<u64>,
    #[arg(long, default_value_t = 1000)]
    pub stall_ms: u64,
    /// Write the process id here (for `[sut] pid_file`).
    #[arg(long)]
    pub pid_file: Option<std::path::PathBuf>,
}

pub async fn run(a: DemoServiceArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("binding {}", a.addr))?;
    if let Some(p) = &a.pid_file {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let config = DemoConfig {
        latency: Duration::from_secs_f64(a.latency_ms.max(0.0) / 1e3),
        capacity: a.capacity.filter(|c| *c > 0),
        fail_every: a.fail_every,
        stall_at: a.stall_at,
        stall_for: Duration::from_millis(a.stall_ms),
    };
    println!(
        "demo-service listening on http://{}",
        listener.local_addr()?
    );
    serve(listener, config).await?;
    Ok(())
}
