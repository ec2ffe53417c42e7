//! The trend chart: geometry (pure, tested) and the SVG component.

pub mod labels;
mod layers;
mod paths;
mod pointer;
pub mod scale;
pub mod time_ticks;
pub mod trend;

pub use trend::TrendChart;
