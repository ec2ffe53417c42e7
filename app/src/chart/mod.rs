//! The trend chart: geometry (pure, tested) and the SVG component.

pub mod scale;
pub mod trend;

pub use trend::TrendChart;
