//! How a detection pass detects and writes, and which series it covers.

use perfwatch_detect::DetectConfig;

/// How a pass detects and writes.
#[derive(Debug, Clone)]
pub struct DetectSettings {
    pub config: DetectConfig,
    /// Benjamini–Hochberg level across the series of one pass.
    pub fdr_q: f64,
    /// A change point within this many points of an existing alert's first bad point
    /// updates that alert instead of creating one.
    pub move_tolerance: usize,
    /// Judge threshold rules on every point (`true`) or on the newest only.
    pub threshold_history: bool,
    /// Newest points of a commit-indexed series a pass reads (`None`: all). A pass after
    /// every ingested run must not read, and hold, the whole history: its cost and the
    /// server's memory would grow with the data (docs/benchmarks.md "Soak"). What lies
    /// before the window was judged by earlier passes while it was recent; see
    /// [`DETECT_WINDOW`]. A pass judging thresholds over the history (on demand, REST and
    /// CLI) reads everything.
    pub window: Option<usize>,
}

/// Points an automatic pass reads per series. The detector needs a full segment on each
/// side of a change (`min_segment`, 5) and re-judges the newest change against at least
/// `incremental_margin` (100) points before it (perfwatch-detect's incremental rule);
/// 1,000 points leave nine tenths of the window to changes still moving. Change points in
/// the window's first `incremental_margin` points are not raised (their left segment is
/// cut), and existing alerts there or before are left as they are.
pub const DETECT_WINDOW: usize = 1000;

impl Default for DetectSettings {
    fn default() -> Self {
        Self {
            config: DetectConfig::default(),
            fdr_q: 0.05,
            move_tolerance: 5,
            threshold_history: false,
            window: Some(DETECT_WINDOW),
        }
    }
}

impl DetectSettings {
    /// Points read per series: the window, unless thresholds are judged over the
    /// whole history.
    pub(super) fn read_window(&self) -> Option<usize> {
        (!self.threshold_history).then_some(self.window).flatten()
    }
}

/// Which series a pass covers.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every series of the project.
    All,
    /// These series (e.g. those a run just touched).
    Series(Vec<i64>),
}
