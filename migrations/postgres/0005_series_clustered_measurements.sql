-- Measurements carry the run facts a chart needs; raw samples move to their own table.
--
-- Reading a 100,000-point series used to join every point to runs and branch_commits
-- for its commit order and time. Those facts (the run's branch, its commit's order on
-- that branch, its start time) are fixed at ingest, so they are copied into each
-- measurement, and the primary-key index carries them (INCLUDE) for index-only chart
-- scans. The raw samples, read only per run (run page, comparisons), move out so the
-- series rows stay narrow. See the SQLite migration of the same number.
CREATE TABLE measurement_samples (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    series_id BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    samples TEXT NOT NULL,
    PRIMARY KEY (run_id, series_id)
);
INSERT INTO measurement_samples (run_id, series_id, samples)
    SELECT run_id, series_id, samples FROM measurements;

ALTER TABLE measurements
    DROP COLUMN samples,
    ADD COLUMN branch_id BIGINT,
    ADD COLUMN ord BIGINT,
    ADD COLUMN started_at BIGINT;
UPDATE measurements m SET branch_id = r.branch_id, ord = bc.ord, started_at = r.started_at
    FROM runs r LEFT JOIN branch_commits bc ON bc.branch_id = r.branch_id AND bc.commit_id = r.commit_id
    WHERE r.id = m.run_id;
ALTER TABLE measurements ALTER COLUMN started_at SET NOT NULL;
ALTER TABLE measurements DROP CONSTRAINT measurements_pkey;
ALTER TABLE measurements ADD PRIMARY KEY (series_id, run_id)
    INCLUDE (branch_id, ord, started_at, n, median, mean, min, max);
