//! GitHub for perfwatch jobs (see Cargo.toml description).
