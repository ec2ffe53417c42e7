//! Test support: spawn the real server on 127.0.0.1:0 against a fresh database.
