//! Comparison statistics: "is my PR slower than master, is this release slower than
//! the last?" Pure — numbers in, verdicts out; no IO, no async; builds for wasm32.
//!
//! Per series: median of each side with an order-statistic interval
//! ([`median_ci`]), Hodges–Lehmann change with Moses' interval ([`hodges_lehmann`]),
//! a two-sided Mann–Whitney p-value ([`mann_whitney`]) and a [`Verdict`]
//! ([`verdict`]). Across series: Benjamini–Hochberg FDR control and geometric means
//! per suite ([`geomean`]). [`compare_all`] runs it all. The methods and their
//! reasons are written up in `docs/statistics.md`.

pub mod compare;
pub mod config;
pub mod geomean;
pub mod hodges_lehmann;
pub mod mann_whitney;
pub mod median_ci;
pub mod noise;
pub mod pairwise;
pub mod run_level;
pub mod types;
pub mod verdict;

pub use compare::{compare_all, compare_all_with_history};
pub use config::{CompareConfig, CompareError};
pub use geomean::{Geomean, GroupGeomean};
pub use hodges_lehmann::ShiftEstimate;
pub use mann_whitney::PMethod;
pub use noise::{level_window, run_noise, Noise, Scale};
pub use run_level::{RunLevels, RunTest};
pub use types::{
    ChangeMethod, ComparisonSummary, Interval, Note, SeriesComparison, SeriesInput, SideStats,
};
pub use verdict::Verdict;
