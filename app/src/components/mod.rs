//! Small shared components.

pub mod band_sparkline;
pub mod seasonal_chart;
pub mod sparkline;
pub mod thresholds;

pub use band_sparkline::{BandSpark, BandSparkline};
pub use seasonal_chart::SeasonalChart;
pub use sparkline::Sparkline;
pub use thresholds::ThresholdRules;
