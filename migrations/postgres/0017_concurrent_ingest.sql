-- Concurrent ingestion on PostgreSQL: runs of one project, posted at once to one or
-- several servers, no longer wait for each other's locks (docs/benchmarks.md,
-- ingestion, fifth pass, with pg_stat_statements figures).

-- 1. Measurements and samples no longer check their series with a foreign key.
--
-- PostgreSQL checks a foreign key per inserted row with `FOR KEY SHARE` on the
-- referenced row. A run writes 200 rows for the same 100 series as every other run of
-- the project, so concurrent runs shared locks on the same series rows, and each new
-- sharer rewrote the row's lock as a multixact: 27 µs per row, 5.4 ms of a run's
-- 14 ms statement at 8 clients. The store is what guarantees the reference now: a
-- run's series ids come from rows it found or inserted in its own transaction, or
-- from its cache of committed ids, and series rows are never deleted (no code path
-- deletes one; they go only with their project, whose runs cascade to these rows
-- through `run_id`, which keeps its foreign key). SQLite keeps its check: there it is
-- one index probe and takes no lock.
ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_series_id_fkey;
ALTER TABLE measurement_samples DROP CONSTRAINT IF EXISTS measurement_samples_series_id_fkey;

-- 2. A commit's order on a branch in one call, in a transaction of its own.
--
-- Two runs of a branch must not give two new commits the same order, so ordering a
-- new commit locks the branch's row. Taken in the run's transaction, the lock was held
-- while the run's rows were written; taken in a transaction of its own from the
-- server, it was still held across the round trips of that transaction, which on a
-- busy machine wait for a CPU each. Here the whole ordering is one statement in its
-- own transaction: the lock is held for the function and the commit only. A commit
-- already ordered on the branch (every run after the first of a commit) takes no lock
-- at all, and a commit row whose details are all known is read, not upserted (the
-- upsert locks the row, and the run inserts of that commit check their foreign key
-- against it).
--
-- Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so
-- the MAX(ord) read after the lock sees the order the previous holder committed. The
-- lock is `FOR NO KEY UPDATE`: the foreign-key checks of runs being inserted on the
-- branch (`FOR KEY SHARE`) pass it.
CREATE FUNCTION perfwatch_order_commit(
    p_project BIGINT, p_branch TEXT, p_sha TEXT, p_parent TEXT, p_author TEXT,
    p_message TEXT, p_committed_at BIGINT,
    OUT o_branch BIGINT, OUT o_commit BIGINT, OUT o_ord BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT b.id INTO o_branch FROM branches b
        WHERE b.project_id = p_project AND b.name = p_branch;
    IF NOT FOUND THEN
        INSERT INTO branches (project_id, name) VALUES (p_project, p_branch)
            ON CONFLICT (project_id, name) DO NOTHING;
        SELECT b.id INTO STRICT o_branch FROM branches b
            WHERE b.project_id = p_project AND b.name = p_branch;
    END IF;

    SELECT c.id INTO o_commit FROM commits c
        WHERE c.project_id = p_project AND c.sha = p_sha
          AND (p_parent IS NULL OR c.parent_sha IS NOT NULL)
          AND (p_author IS NULL OR c.author IS NOT NULL)
          AND (p_message IS NULL OR c.message IS NOT NULL)
          AND (p_committed_at IS NULL OR c.committed_at IS NOT NULL);
    IF NOT FOUND THEN
        INSERT INTO commits AS c (project_id, sha, parent_sha, author, message, committed_at)
            VALUES (p_project, p_sha, p_parent, p_author, p_message, p_committed_at)
            ON CONFLICT (project_id, sha) DO UPDATE SET
                parent_sha = COALESCE(c.parent_sha, excluded.parent_sha),
                author = COALESCE(c.author, excluded.author),
                message = COALESCE(c.message, excluded.message),
                committed_at = COALESCE(c.committed_at, excluded.committed_at)
            RETURNING c.id INTO o_commit;
    END IF;

    SELECT bc.ord INTO o_ord FROM branch_commits bc
        WHERE bc.branch_id = o_branch AND bc.commit_id = o_commit;
    IF FOUND THEN
        RETURN;
    END IF;
    PERFORM 1 FROM branches b WHERE b.id = o_branch FOR NO KEY UPDATE;
    INSERT INTO branch_commits AS bc (branch_id, commit_id, ord)
        SELECT o_branch, o_commit, COALESCE(MAX(x.ord), 0) + 1
        FROM branch_commits x WHERE x.branch_id = o_branch
        ON CONFLICT (branch_id, commit_id) DO UPDATE SET ord = bc.ord
        RETURNING bc.ord INTO o_ord;
END
$$;
