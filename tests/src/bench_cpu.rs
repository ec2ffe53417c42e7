//! CPU time (user + system) of a process or of the calling thread, from
//! `/proc/<pid>/stat` and `/proc/thread-self/stat`. The ingestion bench divides it by
//! the runs stored: unlike points per second, CPU per run barely moves when other
//! processes share the cores, so its before/after ratio survives a loaded machine.

use std::time::Duration;

use procfs::process::{Process, Stat};
use procfs::FromRead;

fn cpu_of(stat: &Stat) -> Duration {
    // utime and stime are in clock ticks (USER_HZ, 100 on Linux).
    let ticks = stat.utime + stat.stime;
    Duration::from_secs_f64(ticks as f64 / procfs::ticks_per_second() as f64)
}

/// CPU time the process `pid` has used so far (all its threads).
pub fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    Ok(cpu_of(&Process::new(pid as i32)?.stat()?))
}

/// CPU time the calling thread has used so far.
pub fn thread_cpu() -> anyhow::Result<Duration> {
    Ok(cpu_of(&Stat::from_file("/proc/thread-self/stat")?))
}
