//! Harness-output parsers. Pure.
