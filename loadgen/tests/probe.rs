//! Service probes end to end: a child process that burns CPU, found through a pid
//! file. Its own test binary, so the busy child does not slow the timing tests.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::Path;
use std::time::Duration;

use perfwatch_loadgen::demo::{serve, DemoConfig};
use perfwatch_loadgen::engine::{run, Options};
use perfwatch_loadgen::probe::{Probe, Source};
use perfwatch_loadgen::scenario::parse;

async fn demo(config: DemoConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config));
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_cpu_and_rss_of_a_child_process() {
    let base = demo(DemoConfig::default()).await;
    // The parent shell only waits; its child burns CPU. Counting children is what finds it.
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "sh -c 'while :; do :; done' & wait"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let dir = std::env::temp_dir().join(format!("pw-loadgen-sut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("sut.pid");
    std::fs::write(&pid_file, format!("{pid}\n")).unwrap();
    // Without its children the waiting parent uses next to nothing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut alone, mut family) = (
        Probe::new(Source::Pids {
            root: pid as i32,
            children: false,
        }),
        Probe::new(Source::Pids {
            root: pid as i32,
            children: true,
        }),
    );
    alone.sample().unwrap();
    family.sample().unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (a, fam) = (
        alone.sample().unwrap().unwrap(),
        family.sample().unwrap().unwrap(),
    );
    println!("alone {a:?}, with children {fam:?}");
    assert!(a.cpu_percent < 3.0, "{a:?}");
    assert!(fam.cpu_percent > 5.0, "{fam:?}");
    let mut toml = format!(
        "[run]\nname = \"t\"\nbase_url = \"{base}\"\nduration = \"3s\"\n\n[load]\nmodel = \"open\"\nrate = \"20/s\"\n\n[[flow]]\nname = \"f\"\nsteps = [{{ op = \"null\", method = \"GET\", path = \"/null\" }}]\n"
    );
    toml.push_str(&format!("\n[sut]\npid_file = \"{}\"\n", pid_file.display()));
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    let f = run(&parse(&toml).unwrap(), Path::new("."), &opts)
        .await
        .unwrap();
    let _ = tokio::process::Command::new("pkill")
        .args(["-P", &pid.to_string()])
        .status()
        .await;
    let _ = child.kill().await;
    let s = f.report.service.as_ref().unwrap();
    println!("service {s:?}, generator {:?}", f.report.generator);
    assert!(s.cpu_percent.len() >= 2, "{s:?}");
    let mean = s.cpu_percent.iter().sum::<f64>() / s.cpu_percent.len() as f64;
    // a busy loop gets a core on an idle box, a share of one on a loaded box
    assert!(mean > 5.0, "{s:?}");
    assert!(s.rss_bytes.iter().all(|r| *r > 100_000.0), "{s:?}");
    assert!(!f.report.generator.cpu_percent.is_empty());
    assert!(f.report.probe_error.is_none());

    // a pid that is gone: the probe fails at start
    let mut gone = toml.clone();
    gone = gone.replace(
        &format!("pid_file = \"{}\"", pid_file.display()),
        "pid = 999999999",
    );
    let s = parse(&gone).unwrap();
    let e = run(
        &s,
        Path::new("."),
        &Options {
            quiet: true,
            ..Options::default()
        },
    )
    .await
    .unwrap_err();
    assert!(e.contains("999999999"), "{e}");
}
