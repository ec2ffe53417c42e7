//! Requests/s of one generator core against a null handler, for the side-by-side
//! with wrk in docs/benchmarks.md.
//!
//!   null_bench serve 127.0.0.1:18181            # the null service (2 worker threads)
//!   null_bench load http://127.0.0.1:18181 16 5  # 16 connections (closed-model VUs), 5 s
//!
//! `load` runs the engine on a current-thread runtime: one core.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::Path;

use perfwatch_loadgen::demo::{serve, DemoConfig};
use perfwatch_loadgen::engine::{run, Options};
use perfwatch_loadgen::scenario::parse;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let l = tokio::net::TcpListener::bind(&args[2]).await.unwrap();
                serve(l, DemoConfig::default()).await.unwrap();
            });
        }
        Some("load") => {
            let (base, conns, secs) = (&args[2], &args[3], &args[4]);
            let toml = format!(
                "[run]\nname = \"null\"\nbase_url = \"{base}\"\nduration = \"{secs}s\"\nwarmup = \"1s\"\n\n[load]\nmodel = \"closed\"\nvus = {conns}\n\n[[flow]]\nname = \"f\"\nsteps = [{{ op = \"null\", method = \"GET\", path = \"/null\" }}]\n"
            );
            let s = parse(&toml).unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let f = rt
                .block_on(run(
                    &s,
                    Path::new("."),
                    &Options {
                        quiet: true,
                        ..Options::default()
                    },
                ))
                .unwrap();
            let op = &f.report.ops[0];
            let cpu = &f.report.generator.cpu_percent;
            println!(
                "perfwatch-loadgen: {:.0} requests/s, {} errors, p50 {:.3} ms, p99 {:.3} ms, generator CPU {:.0}%",
                op.throughput(f.report.measured_seconds),
                op.error_count(None),
                op.service.p50,
                op.service.p99,
                cpu.iter().sum::<f64>() / cpu.len().max(1) as f64
            );
        }
        _ => eprintln!("usage: null_bench serve ADDR | null_bench load URL CONNECTIONS SECONDS"),
    }
}
