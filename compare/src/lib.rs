//! Comparison statistics. Pure.
