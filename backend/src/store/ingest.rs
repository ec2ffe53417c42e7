//! Storing a validated run: all of it in one transaction, or nothing.

use perfwatch_core::validate::ValidRun;

use super::id_cache::Ids;
use super::ingest_batch::Batch;
use super::ingest_followup::queue_follow_ups;
use super::ingest_pg::{self, Ordered, PgRun};
use super::ingest_rows::{insert_run_rows, RunFacts, RunRows};
use super::{is_foreign_key_violation, is_unique_violation, Dialect, Store, WriteTx};
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::followup::follow_up_job;
use crate::time::{now_ms, to_ms};

/// How a submission may touch projects.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Create the project when its slug is unknown (server flag `--auto-create-projects`,
    /// and only for an actor with the ingest right everywhere: the rights policy decides
    /// who may submit to which project before the store is called).
    pub auto_create_project: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub run_id: i64,
    pub project_id: i64,
    pub project: String,
    /// A run with the same key existed: nothing was written.
    pub duplicate: bool,
    pub series_ids: Vec<i64>,
    /// Whether the run is on the project's main branch (detection runs after those).
    pub on_main_branch: bool,
    pub branch_id: Option<i64>,
}

/// Rows per multi-row insert: one statement for a typical run, and under PostgreSQL's
/// limit of 65,535 parameters for any run.
pub(super) const SERIES_CHUNK: usize = 1000;

/// What writing one run produced: the answer, and the ids it learned (remembered once
/// its transaction commits).
pub(crate) struct Written {
    pub stored: StoredRun,
    pub learned: Ids,
}

/// Where a run's rows go.
#[derive(Debug, Clone, Copy)]
struct RunPlace {
    project_id: i64,
    testbed_id: i64,
    branch_id: Option<i64>,
    started_at: i64,
}

/// The run's branch: the one it names, else the main branch for a run at a commit,
/// else none (a time-indexed run).
pub(super) fn branch_of(run: &ValidRun, main_branch: &str) -> Option<String> {
    match (&run.branch, &run.commit) {
        (Some(b), _) => Some(b.clone()),
        (None, Some(_)) => Some(main_branch.to_owned()),
        (None, None) => None,
    }
}

/// When the run started: as given, else its commit's time, else now.
fn started_at_of(run: &ValidRun) -> i64 {
    run.started_at
        .or_else(|| run.commit.as_ref().and_then(|c| c.time))
        .map(to_ms)
        .unwrap_or_else(now_ms)
}

impl Store {
    /// Stores a run all-or-nothing. On SQLite, concurrent submissions are written
    /// together in one transaction, each inside its own savepoint (`ingest_batch.rs`);
    /// on PostgreSQL each run has its own transaction.
    pub async fn store_run(&self, run: &ValidRun, opts: &IngestOptions) -> Result<StoredRun> {
        self.store_run_with(run, opts, false).await
    }

    /// [`Store::store_run`] that also queues the run's follow-up job (detection or the
    /// baseline comparison, `crate::followup`) in the run's own transaction.
    pub(crate) async fn store_run_queued(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
    ) -> Result<StoredRun> {
        self.store_run_with(run, opts, true).await
    }

    async fn store_run_with(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
        follow_up: bool,
    ) -> Result<StoredRun> {
        match self.dialect() {
            Dialect::Sqlite => self.store_run_batched(run, opts, follow_up).await,
            Dialect::Postgres => self.store_run_alone(run, opts, follow_up).await,
        }
    }

    async fn store_run_alone(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
        follow_up: bool,
    ) -> Result<StoredRun> {
        let mut retried = false;
        let mut deadlocks = 0;
        let mut ordered = None;
        loop {
            if ordered.is_none() && run.commit.is_some() {
                match self.order_commit(run, opts).await {
                    Ok(o) => ordered = Some(o),
                    Err(e) => match classify(&e) {
                        Failure::StaleCache if !retried => {
                            self.ids.forget_all();
                            retried = true;
                            continue;
                        }
                        Failure::Deadlock if deadlocks < MAX_DEADLOCK_RETRIES => {
                            deadlocks += 1;
                            continue;
                        }
                        _ => return Err(e),
                    },
                }
            }
            let mut tx = self.begin_write().await?;
            let written = match self.write_run(&mut tx, run, opts, None, ordered).await {
                Ok(w) if follow_up && !w.stored.duplicate => {
                    // Last, so the queued job's row lock is held only for the commit.
                    let now = now_ms();
                    match follow_up_job(&w.stored, run.commit.is_some(), now) {
                        Ok(Some(job)) => queue_follow_ups(self.dialect(), &mut tx, &[job], now)
                            .await
                            .map(|()| w),
                        Ok(None) => Ok(w),
                        Err(e) => Err(e),
                    }
                }
                other => other,
            };
            match written {
                Ok(w) if w.stored.duplicate => {
                    // PostgreSQL finds the repeated key after writing the commit rows.
                    tx.rollback().await?;
                    return Ok(w.stored);
                }
                Ok(w) => {
                    tx.commit().await?;
                    self.ids.learn(w.learned);
                    return Ok(w.stored);
                }
                Err(e) => {
                    tx.rollback().await?;
                    match classify(&e) {
                        Failure::LostKeyRace if run.run_key.is_some() => {
                            return self.duplicate_of(run).await;
                        }
                        Failure::StaleCache if !retried => {
                            self.ids.forget_all();
                            retried = true;
                            ordered = None;
                        }
                        Failure::Deadlock if deadlocks < MAX_DEADLOCK_RETRIES => deadlocks += 1,
                        _ => return Err(e),
                    }
                }
            }
        }
    }

    /// The answer for a run whose key another submission stored first.
    async fn duplicate_of(&self, run: &ValidRun) -> Result<StoredRun> {
        let key = run.run_key.as_deref().unwrap_or_default();
        let project_id = self.project_id(&run.project).await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM runs WHERE project_id = $1 AND run_key = $2")
                .bind(project_id)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(duplicate(run, project_id, existing.unwrap_or_default()))
    }

    async fn project_id(&self, slug: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {slug}")))
    }

    /// Writes one run inside `tx`. Nothing is remembered until the caller commits.
    /// On SQLite, with `batch`, the run's measurement and sample rows are not written
    /// but added to the batch, for one multi-row insert over all its runs
    /// (`ingest_rows::insert_run_rows`), and the batch's stored keys answer whether
    /// the run is a duplicate (`ingest_batch/keys.rs`).
    pub(crate) async fn write_run<'r>(
        &self,
        tx: &mut WriteTx,
        run: &'r ValidRun,
        opts: &IngestOptions,
        mut batch: Option<&mut Batch<'r>>,
        ordered: Option<Ordered>,
    ) -> Result<Written> {
        let mut learned = Ids::default();
        let (project_id, main_branch) = self
            .project_for_ingest(tx, &run.project, opts, &mut learned)
            .await?;
        // On PostgreSQL the run insert's `ON CONFLICT DO NOTHING` finds a repeated key
        // (`ingest_pg.rs`), one round trip fewer per run.
        if let (Some(key), Dialect::Sqlite) = (&run.run_key, self.dialect()) {
            let existing = match batch.as_deref() {
                Some(b) => b.keys.get(&(run.project.clone(), key.clone())).copied(),
                None => existing_run(tx, project_id, key).await?,
            };
            if let Some(existing) = existing {
                return Ok(Written {
                    stored: duplicate(run, project_id, existing),
                    learned,
                });
            }
        }
        let testbed_id = self
            .testbed_for_ingest(tx, project_id, &run.testbed, &mut learned)
            .await?;
        let branch_name = branch_of(run, &main_branch);
        // Measures and series first: a new one is inserted before the branch is locked,
        // so no other run of the branch waits for it.
        let measure_ids = self
            .measures_for_ingest(tx, project_id, run, &mut learned)
            .await?;
        let series_ids = self
            .series_for_ingest(tx, project_id, testbed_id, run, &measure_ids, &mut learned)
            .await?;
        let branch_id = match &branch_name {
            Some(b) => Some(
                self.branch_for_ingest(tx, project_id, b, &mut learned)
                    .await?,
            ),
            None => None,
        };
        let place = RunPlace {
            project_id,
            testbed_id,
            branch_id,
            started_at: started_at_of(run),
        };
        let later = batch.as_deref_mut().map(|b| &mut b.rows);
        let Some(run_id) = self
            .insert_run(tx, &place, run, &series_ids, later, ordered)
            .await?
        else {
            // Another run has this key; the caller rolls back what was written.
            let key = run.run_key.as_deref().unwrap_or_default();
            let existing = existing_run(tx, project_id, key).await?;
            return Ok(Written {
                stored: duplicate(run, project_id, existing.unwrap_or_default()),
                learned,
            });
        };
        if let (Some(b), Some(key)) = (batch, &run.run_key) {
            // A second submission of this key later in the batch is its duplicate.
            b.keys.insert((run.project.clone(), key.clone()), run_id);
        }
        Ok(Written {
            stored: StoredRun {
                run_id,
                project_id,
                project: run.project.clone(),
                duplicate: false,
                series_ids,
                on_main_branch: branch_name.as_deref() == Some(main_branch.as_str()),
                branch_id,
            },
            learned,
        })
    }

    /// The id of the project's testbed of that name, inserted when new.
    async fn testbed_for_ingest(
        &self,
        tx: &mut WriteTx,
        project_id: i64,
        name: &str,
        learned: &mut Ids,
    ) -> Result<i64> {
        let key = (project_id, name.to_owned());
        if let Some(id) = self.ids.read(|i| i.testbeds.get(&key).copied()) {
            return Ok(id);
        }
        // Insert-or-nothing, then read: an upsert that "updates" an existing row
        // locks it on PostgreSQL until commit, and a concurrent run that knew the
        // id (from the cache) and holds another lock can then deadlock with us.
        sqlx::query(
            "INSERT INTO testbeds (project_id, name) VALUES ($1, $2)
             ON CONFLICT (project_id, name) DO NOTHING",
        )
        .bind(project_id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
        let id: i64 =
            sqlx::query_scalar("SELECT id FROM testbeds WHERE project_id = $1 AND name = $2")
                .bind(project_id)
                .bind(name)
                .fetch_one(&mut **tx)
                .await?;
        learned.testbeds.insert(key, id);
        Ok(id)
    }

    /// The run row, its commit and its measurements: the new run's id, or `None` when
    /// PostgreSQL found another run with its key. SQLite with `later` leaves the
    /// measurement rows to the batch.
    async fn insert_run<'r>(
        &self,
        tx: &mut WriteTx,
        place: &RunPlace,
        run: &'r ValidRun,
        series_ids: &[i64],
        later: Option<&mut Vec<RunRows<'r>>>,
        ordered: Option<Ordered>,
    ) -> Result<Option<i64>> {
        let RunPlace {
            project_id,
            testbed_id,
            branch_id,
            started_at,
        } = *place;
        if self.dialect() == Dialect::Postgres {
            let rows = PgRun {
                project_id,
                testbed_id,
                branch_id,
                started_at,
                run,
                series_ids,
                ordered,
            };
            return ingest_pg::write_rows(tx, &rows).await;
        }
        let facts = self
            .write_run_rows(tx, project_id, testbed_id, branch_id, started_at, run)
            .await?;
        let run_id = facts.run_id;
        let rows = RunRows {
            facts,
            run,
            series_ids: series_ids.to_vec(),
        };
        match later {
            Some(later) => later.push(rows),
            None => insert_run_rows(self.dialect(), tx, &[rows]).await?,
        }
        Ok(Some(run_id))
    }

    /// SQLite: the commit, its order on the branch and the run row, in one call into
    /// the writer's connection (`SQLITE_RUN_AT_COMMIT` holds three statements; sqlx
    /// runs them in turn with the same numbered parameters).
    async fn write_run_rows(
        &self,
        tx: &mut WriteTx,
        project_id: i64,
        testbed_id: i64,
        branch_id: Option<i64>,
        started_at: i64,
        run: &ValidRun,
    ) -> Result<RunFacts> {
        let commit = match (&run.commit, branch_id) {
            (Some(c), Some(bid)) => Some((c, bid)),
            _ => None,
        };
        let sql = if commit.is_some() {
            SQLITE_RUN_AT_COMMIT
        } else {
            SQLITE_RUN_ALONE
        };
        let mut q = sqlx::query(sql)
            .bind(project_id)
            .bind(branch_id)
            .bind(testbed_id)
            .bind(run.run_key.as_deref())
            .bind(started_at)
            .bind(run.finished_at.map(to_ms))
            .bind(run.trigger.as_deref())
            .bind(serde_json::Value::Object(run.metadata.clone()).to_string())
            .bind(now_ms());
        if let Some((c, _)) = commit {
            q = q
                .bind(c.sha.to_ascii_lowercase())
                .bind(c.parent.as_ref().map(|p| p.to_ascii_lowercase()))
                .bind(c.author.as_deref())
                .bind(c.message.as_deref())
                .bind(c.time.map(to_ms));
        }
        let rows = q.fetch_all(&mut **tx).await?;
        let (ord, run_row) = match (commit, rows.as_slice()) {
            (Some(_), [ord_row, run_row]) => (Some(ord_row.try_get::<i64, _>("ord")?), run_row),
            (None, [run_row]) => (None, run_row),
            _ => {
                return Err(StoreError::Data(format!(
                    "storing the run returned {} rows",
                    rows.len()
                )))
            }
        };
        Ok(RunFacts {
            run_id: run_row.try_get("id")?,
            branch_id,
            ord,
            started_at,
        })
    }
}

/// The run row of a SQLite run without a commit (parameters as in
/// `SQLITE_RUN_AT_COMMIT`).
const SQLITE_RUN_ALONE: &str =
    "INSERT INTO runs (project_id, branch_id, commit_id, testbed_id, run_key, started_at,
                       finished_at, trigger_kind, metadata, created_at)
     VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

/// A SQLite run at a commit: the commit (fields filled in when first known), its order
/// on the branch, the run row. Returns two rows: the order, then the run's id.
/// Commits take the next order on their branch when first seen there, and keep it;
/// SQLite has one writer, so two runs cannot take the same order. $1 project, $2
/// branch, $3 testbed, $4 run key, $5 started, $6 finished, $7 trigger, $8 metadata,
/// $9 created, $10 sha, $11 parent, $12 author, $13 message, $14 commit time.
const SQLITE_RUN_AT_COMMIT: &str =
    "INSERT INTO commits (project_id, sha, parent_sha, author, message, committed_at)
     VALUES ($1, $10, $11, $12, $13, $14)
     ON CONFLICT (project_id, sha) DO UPDATE SET
       parent_sha = COALESCE(commits.parent_sha, excluded.parent_sha),
       author = COALESCE(commits.author, excluded.author),
       message = COALESCE(commits.message, excluded.message),
       committed_at = COALESCE(commits.committed_at, excluded.committed_at);
     INSERT INTO branch_commits (branch_id, commit_id, ord)
     SELECT $2, c.id, (SELECT COALESCE(MAX(ord), 0) + 1 FROM branch_commits WHERE branch_id = $2)
     FROM commits c WHERE c.project_id = $1 AND c.sha = $10
     ON CONFLICT (branch_id, commit_id) DO UPDATE SET ord = branch_commits.ord
     RETURNING ord;
     INSERT INTO runs (project_id, branch_id, commit_id, testbed_id, run_key, started_at,
                       finished_at, trigger_kind, metadata, created_at)
     VALUES ($1, $2, (SELECT id FROM commits WHERE project_id = $1 AND sha = $10), $3, $4, $5,
             $6, $7, $8, $9)
     RETURNING id";

fn duplicate(run: &ValidRun, project_id: i64, run_id: i64) -> StoredRun {
    StoredRun {
        run_id,
        project_id,
        project: run.project.clone(),
        duplicate: true,
        series_ids: vec![],
        on_main_branch: false,
        branch_id: None,
    }
}

/// A run PostgreSQL chose as a deadlock victim is written again, this many times at
/// most. Deadlocks need two runs creating the same new rows (a testbed, measures,
/// series) in different orders, or a new commit seen on two branches at once: rare,
/// and harmless to retry, since the victim's transaction wrote nothing.
const MAX_DEADLOCK_RETRIES: usize = 3;

/// How a failed write is handled.
pub(crate) enum Failure {
    /// Another submission stored the same run key first: answer "duplicate".
    LostKeyRace,
    /// A remembered id points at a row that is gone: forget, write again.
    StaleCache,
    /// PostgreSQL broke a deadlock (or a serialization failure) by failing this run:
    /// write it again.
    Deadlock,
    Other,
}

pub(crate) fn classify(e: &StoreError) -> Failure {
    match e {
        StoreError::Database(db) if is_unique_violation(db) => Failure::LostKeyRace,
        StoreError::Database(db) if is_foreign_key_violation(db) => Failure::StaleCache,
        StoreError::Database(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
        {
            Failure::Deadlock
        }
        _ => Failure::Other,
    }
}

pub(crate) async fn existing_run(
    tx: &mut WriteTx,
    project_id: i64,
    key: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM runs WHERE project_id = $1 AND run_key = $2")
            .bind(project_id)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

pub(crate) async fn upsert_branch(tx: &mut WriteTx, project_id: i64, name: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO branches (project_id, name) VALUES ($1, $2)
         ON CONFLICT (project_id, name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(project_id)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?)
}
