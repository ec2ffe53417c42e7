//! Small shared components.

pub mod sparkline;
pub mod thresholds;

pub use sparkline::Sparkline;
pub use thresholds::ThresholdRules;
