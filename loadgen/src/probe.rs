//! CPU and memory of the service under test (a pid with or without its descendants, a
//! pid file, every process of one name, or a cgroup v2), and of the generator itself,
//! read from procfs once a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use procfs::process::{all_processes, Process};

use crate::scenario::SutTarget;

/// CPU time used so far (seconds) and resident memory now (bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    cpu_seconds: f64,
    rss_bytes: f64,
}

/// One sample: CPU in % of one core over the last interval, RSS in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub cpu_percent: f64,
    pub rss_bytes: f64,
}

fn proc_reading(pids: &[i32]) -> Result<Reading, String> {
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size() as f64;
    let mut r = Reading {
        cpu_seconds: 0.0,
        rss_bytes: 0.0,
    };
    let mut seen = 0;
    for &pid in pids {
        // A child that exited between listing and reading is skipped.
        let Ok(stat) = Process::new(pid).and_then(|p| p.stat()) else {
            continue;
        };
        seen += 1;
        r.cpu_seconds += (stat.utime + stat.stime) as f64 / ticks;
        r.rss_bytes += stat.rss as f64 * page;
    }
    if seen == 0 {
        return Err(format!("no process left of {pids:?}"));
    }
    Ok(r)
}

/// `root` and every descendant of it.
fn with_descendants(root: i32) -> Result<Vec<i32>, String> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in all_processes()
        .map_err(|e| format!("reading /proc: {e}"))?
        .flatten()
    {
        if let Ok(s) = p.stat() {
            children.entry(s.ppid).or_default().push(s.pid);
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend(c);
        }
        i += 1;
    }
    Ok(out)
}

fn by_name(name: &str) -> Result<Vec<i32>, String> {
    let pids: Vec<i32> = all_processes()
        .map_err(|e| format!("reading /proc: {e}"))?
        .flatten()
        .filter_map(|p| p.stat().ok())
        .filter(|s| s.comm == name)
        .map(|s| s.pid)
        .collect();
    if pids.is_empty() {
        Err(format!("no process named `{name}`"))
    } else {
        Ok(pids)
    }
}

fn cgroup_reading(dir: &Path) -> Result<Reading, String> {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{}: {e}", dir.join(f).display()))
    };
    let usage = read("cpu.stat")?
        .lines()
        .find_map(|l| {
            l.strip_prefix("usage_usec ")
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .ok_or_else(|| format!("{}: no usage_usec", dir.join("cpu.stat").display()))?;
    let mem: f64 = read("memory.current")?
        .trim()
        .parse()
        .map_err(|e| format!("memory.current: {e}"))?;
    Ok(Reading {
        cpu_seconds: usage / 1e6,
        rss_bytes: mem,
    })
}

/// What to read each second.
#[derive(Debug, Clone)]
pub enum Source {
    Pids { root: i32, children: bool },
    PidFile { path: PathBuf, children: bool },
    Name(String),
    Cgroup(PathBuf),
}

impl Source {
    pub fn from_target(t: &SutTarget) -> Self {
        match t {
            SutTarget::Pid { pid, children } => Self::Pids {
                root: *pid,
                children: *children,
            },
            SutTarget::PidFile { path, children } => Self::PidFile {
                path: path.clone(),
                children: *children,
            },
            SutTarget::Process(n) => Self::Name(n.clone()),
            SutTarget::Cgroup(p) if p.is_relative() => {
                Self::Cgroup(Path::new("/sys/fs/cgroup").join(p))
            }
            SutTarget::Cgroup(p) => Self::Cgroup(p.clone()),
        }
    }

    /// The generator process itself.
    pub fn myself() -> Self {
        Self::Pids {
            root: std::process::id() as i32,
            children: false,
        }
    }

    fn read(&self) -> Result<Reading, String> {
        match self {
            Self::Pids { root, children } => {
                let pids = if *children {
                    with_descendants(*root)?
                } else {
                    vec![*root]
                };
                proc_reading(&pids).map_err(|_| format!("process {root} is gone"))
            }
            Self::PidFile { path, children } => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let pid: i32 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("{}: `{}` is not a pid", path.display(), text.trim()))?;
                Self::Pids {
                    root: pid,
                    children: *children,
                }
                .read()
            }
            Self::Name(n) => proc_reading(&by_name(n)?),
            Self::Cgroup(dir) => cgroup_reading(dir),
        }
    }
}

/// Turns cumulative readings into per-interval samples.
pub struct Probe {
    source: Source,
    last: Option<(Instant, Reading)>,
}

impl Probe {
    pub fn new(source: Source) -> Self {
        Self { source, last: None }
    }

    /// Reads now; the first call only sets the starting point (Ok(None)).
    pub fn sample(&mut self) -> Result<Option<Sample>, String> {
        let now = Instant::now();
        let r = self.source.read()?;
        let out = self.last.map(|(t, prev)| {
            let wall = now.duration_since(t).as_secs_f64().max(1e-6);
            Sample {
                cpu_percent: ((r.cpu_seconds - prev.cpu_seconds).max(0.0) / wall * 100.0),
                rss_bytes: r.rss_bytes,
            }
        });
        self.last = Some((now, r));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let mut p = Probe::new(Source::myself());
        assert_eq!(p.sample().unwrap(), None);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let idle = p.sample().unwrap().unwrap();
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed().as_millis() < 200 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let busy = p.sample().unwrap().unwrap();
        // On a loaded box the spinning thread gets a share of a core, not all of it. The
        // "idle" sample is not compared with it: the process is the whole test binary,
        // whose other tests may be busy on other threads during that interval.
        assert!(
            idle.cpu_percent >= 0.0 && idle.cpu_percent.is_finite(),
            "{idle:?}"
        );
        assert!(busy.cpu_percent > 5.0, "{idle:?} {busy:?}");
        assert!(busy.rss_bytes > 1e6, "{busy:?}");
    }

    #[test]
    fn missing_targets_are_errors() {
        let e = Probe::new(Source::Name("no-such-process-xyz".into()))
            .sample()
            .unwrap_err();
        assert!(e.contains("no-such-process-xyz"));
        let e = Probe::new(Source::PidFile {
            path: "/nonexistent/x.pid".into(),
            children: true,
        })
        .sample()
        .unwrap_err();
        assert!(e.contains("x.pid"));
        assert!(Probe::new(Source::Cgroup("/nonexistent-cg".into()))
            .sample()
            .is_err());
    }
}
