//! Metric sources (being written).
