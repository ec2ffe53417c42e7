//! How the server's memory goes back to the system (glibc on Linux).
//!
//! glibc's malloc keeps freed memory for reuse: after a burst of large answers the
//! process holds its high-water mark, so RSS follows the largest moments of the past
//! rather than what is in use. The soak (docs/benchmarks.md, "Soak") measured two
//! knobs against that: fewer malloc arenas (each thread that meets contention gets
//! its own arena, and each keeps its own free memory) and a periodic `malloc_trim`,
//! which hands free pages in the middle of the heaps back to the kernel.

use std::time::Duration;

/// Arenas allowed (glibc's default is 8 per core).
const ARENA_MAX: i32 = 2;

/// Blocks at least this large get their own mapping, unmapped when freed. glibc
/// raises its default (128 KiB) up to 32 MiB after large blocks are freed, after which
/// large answers come from the heap and stay there; a fixed value stops that.
const MMAP_THRESHOLD: i32 = 256 * 1024;

/// How often free heap memory is given back.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Limits the malloc arenas and fixes the mmap threshold. Call before the runtime
/// starts its threads, so they share the arenas instead of each creating one.
/// `PERFWATCH_MALLOC_ARENAS=0` keeps glibc's defaults (to measure the difference).
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = std::env::var("PERFWATCH_MALLOC_ARENAS")
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(ARENA_MAX);
        if arenas > 0 {
            // SAFETY: mallopt only sets a tunable of the allocator; it is safe to call
            // at any time and returns 0 on an unknown parameter.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
}

/// Gives free heap memory back to the system every [`TRIM_EVERY`], for the life of
/// the process (`PERFWATCH_MALLOC_TRIM=0` turns it off, to measure the difference).
pub fn spawn_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var("PERFWATCH_MALLOC_TRIM").is_ok_and(|v| v == "0") {
            return;
        }
        tokio::spawn(async {
            let mut tick = tokio::time::interval(TRIM_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The trim walks every arena under its lock: off the async threads.
                // SAFETY: malloc_trim only releases free memory of the allocator.
                let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
            }
        });
    }
}
