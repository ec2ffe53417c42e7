//! Small shared components.

pub mod sparkline;

pub use sparkline::Sparkline;
