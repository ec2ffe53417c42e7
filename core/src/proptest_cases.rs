//! How many cases the property tests of every crate run.

/// A suite's own case count (`suite`), or `PROPTEST_CASES` when set: CI runs each
/// suite's count from a fixed seed, and scripts/props.sh searches for new failing
/// cases with many more. proptest reads `PROPTEST_CASES` only for suites that keep
/// its default count, so suites that choose their own ask here.
#[must_use]
pub fn proptest_cases(suite: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(suite)
}
