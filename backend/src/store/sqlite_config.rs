//! The one process-wide SQLite setting, made before the first connection opens.
//!
//! Statement journals in memory. Inside a transaction that already changed pages,
//! SQLite keeps, for every statement that writes several rows, a journal of the pages
//! the statement changes, so it can undo that statement alone. Past 64 KiB that
//! journal spills to a temporary file, which `temp_store = FILE` (`mod.rs`, for large
//! sorts) puts on disk: each multi-row insert of an ingest batch, some 100 pages of
//! 4 KiB, then created a file, wrote every page to it and deleted it again, ~40 of
//! the writer's ~90 `pwrite` calls per run (docs/benchmarks.md, "Sixth pass"). Up
//! to [`IN_MEMORY`] bytes they now stay in memory; sorts still spill to files.

/// Statement journals up to this size stay in memory (a 256-row insert of an
/// ingest batch journals at most ~1.5 MiB).
const IN_MEMORY: i32 = 4 << 20;

/// Sets the statement journal's spill size, once per process, before SQLite is
/// initialised (the first connection initialises it; a later call is refused by
/// SQLite and logged, and only costs the speed).
pub(super) fn configure_once() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        // SAFETY: `SQLITE_CONFIG_STMTJRNL_SPILL` takes exactly one `int`. SQLite
        // allows `sqlite3_config` only before `sqlite3_initialize` and answers
        // `SQLITE_MISUSE` without changing anything afterwards; `Once` keeps this to
        // one call, made from `Store::connect` before it opens a connection.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_STMTJRNL_SPILL, IN_MEMORY)
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(
                code = rc,
                "SQLite was initialised before perfwatch configured it: statement journals spill to files after 64 KiB"
            );
        }
    });
}
