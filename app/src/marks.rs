//! Marks on the browser's performance timeline, read by the time-to-interactive bench
//! (`tests/src/bin/perfwatch-bench-browser.rs`). Cheap enough to leave on: one
//! `performance.mark` per hydration.

/// Set when the wasm started (`hydrate_islands`); the islands hydrate right after.
pub const HYDRATED: &str = "perfwatch:hydrated";
/// Set by the trend chart's first effect: its mouse handlers are attached.
pub const CHART_INTERACTIVE: &str = "perfwatch:chart-interactive";

pub fn mark(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}
