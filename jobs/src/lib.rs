//! Performance job execution (see Cargo.toml description).
