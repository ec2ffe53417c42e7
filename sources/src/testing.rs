//! A real Prometheus for the tests: backfilled OpenMetrics with known rates, started on
//! a free 127.0.0.1 port, killed when the guard drops (also when a test panics).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Start of the synthetic data's "run" (2026-11-18), well inside the retention.
pub const T0: i64 = 1_795_000_000;
/// Requests per second of the two endpoints.
pub const RATE_A: f64 = 10.0;
pub const RATE_B: f64 = 4.0;
/// Endpoint b has no samples in `[T0 + GAP.0, T0 + GAP.1)`.
pub const GAP: (i64, i64) = (200, 300);
/// Per-second increments of the cumulative latency buckets: p99 of this histogram is
/// 0.5 + 0.5 × (99 − 98) / (100 − 98) = 0.75 s.
pub const BUCKETS: &[(&str, i64)] = &[
    ("0.1", 50),
    ("0.2", 90),
    ("0.5", 98),
    ("1", 100),
    ("+Inf", 100),
];
pub const EXPECTED_P99: f64 = 0.75;
/// Seconds after T0 at which instances i1 and i2 of `build_info` move from version
/// v1.0 to v1.1.
pub const VERSION_SWITCH: (i64, i64) = (100, 150);

/// A running Prometheus; dropping it kills the process and removes its directory.
pub struct Prom {
    child: Child,
    dir: PathBuf,
    pub url: String,
}

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the binaries are there; when not and CI does not demand them, say so loudly.
pub fn available() -> bool {
    let found = ["prometheus", "promtool"].iter().all(|b| {
        Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if !found {
        assert!(
            std::env::var_os("PERFWATCH_REQUIRE_PROMETHEUS").is_none(),
            "PERFWATCH_REQUIRE_PROMETHEUS is set but prometheus/promtool are not installed"
        );
        // Written to the stderr handle directly: libtest captures eprintln! of passing
        // tests, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: prometheus/promtool not installed (apt-get install prometheus) ***\n"
        );
    }
    found
}

/// The OpenMetrics text: 1 s samples from T0 − 300 to T0 + 600.
pub fn openmetrics() -> String {
    let mut s = String::new();
    let times = || (T0 - 300)..(T0 + 600);
    for (endpoint, rate) in [("a", RATE_A), ("b", RATE_B)] {
        for t in times() {
            if endpoint == "b" && (T0 + GAP.0..T0 + GAP.1).contains(&t) {
                continue;
            }
            let v = (t - T0 + 300) as f64 * rate;
            let _ = writeln!(s, "http_requests_total{{endpoint=\"{endpoint}\"}} {v} {t}");
        }
    }
    for (le, per_s) in BUCKETS {
        for t in times() {
            let v = (t - T0 + 300) * per_s;
            let _ = writeln!(
                s,
                "http_request_duration_seconds_bucket{{le=\"{le}\"}} {v} {t}"
            );
        }
    }
    // The fleet's version: instance i1 runs v1.1 from T0 + VERSION_SWITCH.0, i2 from
    // T0 + VERSION_SWITCH.1 (a rolling deploy).
    for (instance, switch) in [("i1", VERSION_SWITCH.0), ("i2", VERSION_SWITCH.1)] {
        for t in times() {
            let version = if t < T0 + switch { "v1.0" } else { "v1.1" };
            let _ = writeln!(
                s,
                "build_info{{instance=\"{instance}\",version=\"{version}\"}} 1 {t}"
            );
        }
    }
    s.push_str("# EOF\n");
    s
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Backfills the data and starts Prometheus; waits until `/-/ready`.
pub async fn start() -> Prom {
    let dir = std::env::temp_dir().join(format!(
        "perfwatch-prom-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("data.om");
    let tsdb = dir.join("tsdb");
    std::fs::write(&data, openmetrics()).expect("write openmetrics");
    run(Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&data)
        .arg(&tsdb));
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("write config");
    let port = free_port();
    let child = spawn(&dir, &config, &tsdb, port);
    let prom = Prom {
        child,
        dir,
        url: format!("http://127.0.0.1:{port}"),
    };
    wait_ready(&prom.url).await;
    prom
}

fn spawn(dir: &Path, config: &Path, tsdb: &Path, port: u16) -> Child {
    let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
    Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--storage.tsdb.retention.time=3650d")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts")
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{url}/-/ready")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "prometheus not ready after 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
