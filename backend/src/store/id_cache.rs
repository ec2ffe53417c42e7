//! Ids of the rows a submission names, remembered per process.
//!
//! Every run names its project, testbed, branch, measures and ~100 series; looking each
//! up (or upserting it) cost a statement or a row rewrite per run, all inside the write
//! transaction that SQLite serialises. Those rows are created once and never renamed or
//! deleted by perfwatch, so their ids can be remembered. Two rules keep the cache
//! truthful: ids enter it only after the transaction that created them committed (a
//! rolled-back id may be handed out again), and a foreign-key failure on a cached id
//! (someone deleted rows by hand) empties the cache and the run is written again
//! without it.

use std::collections::HashMap;
use std::sync::Mutex;

/// The natural key of a series within its project's testbed.
pub(crate) type SeriesKey = (i64, String, i64, String);

/// Past this many series the cache starts over, bounding its memory (~100 MB).
const MAX_SERIES: usize = 500_000;

#[derive(Debug, Default, Clone)]
pub(crate) struct Ids {
    /// slug → (project id, main branch name)
    pub projects: HashMap<String, (i64, String)>,
    /// (project, name) → testbed id
    pub testbeds: HashMap<(i64, String), i64>,
    /// (project, name) → branch id
    pub branches: HashMap<(i64, String), i64>,
    /// (project, measure, unit) → measure id
    pub measures: HashMap<(i64, String, String), i64>,
    /// (testbed, benchmark, measure, params) → series id
    pub series: HashMap<SeriesKey, i64>,
}

impl Ids {
    fn absorb(&mut self, other: Ids) {
        self.projects.extend(other.projects);
        self.testbeds.extend(other.testbeds);
        self.branches.extend(other.branches);
        self.measures.extend(other.measures);
        self.series.extend(other.series);
    }
}

#[derive(Debug, Default)]
pub(crate) struct IdCache(Mutex<Ids>);

impl IdCache {
    /// Runs `f` on the remembered ids (a short critical section; no await inside).
    pub fn read<T>(&self, f: impl FnOnce(&Ids) -> T) -> T {
        f(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Remembers ids whose rows are committed.
    pub fn learn(&self, learned: Ids) {
        let mut ids = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if ids.series.len() + learned.series.len() > MAX_SERIES {
            *ids = Ids::default();
        }
        ids.absorb(learned);
    }

    pub fn forget_all(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Ids::default();
    }
}
