-- Measurements clustered by series, for charts that read 100,000 points of one series.
--
-- Before: a rowid table keyed by insertion, so reading a series meant an index lookup
-- per point plus joins to runs and branch_commits for each point's commit order and
-- time (150 ms of SQLite time for 100k points). Now the table itself is ordered by
-- (series_id, run_id) (WITHOUT ROWID) and carries the three run facts a chart needs,
-- copied at ingest and never changed afterwards: the run's branch, its commit's order
-- on that branch, and its start time. The raw samples, read only per run (run page,
-- comparisons), move to their own table ordered by run, so series scans stay narrow
-- and an ingest appends samples instead of scattering them over every series' pages.
CREATE TABLE measurement_samples (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    samples TEXT NOT NULL,
    PRIMARY KEY (run_id, series_id)
) WITHOUT ROWID;
INSERT INTO measurement_samples (run_id, series_id, samples)
    SELECT run_id, series_id, samples FROM measurements ORDER BY run_id, series_id;

CREATE TABLE measurements_clustered (
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    branch_id INTEGER,
    ord INTEGER,
    started_at INTEGER NOT NULL,
    n INTEGER NOT NULL,
    mean REAL NOT NULL,
    median REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    stddev REAL NOT NULL,
    iterations INTEGER,
    percentiles TEXT,
    PRIMARY KEY (series_id, run_id)
) WITHOUT ROWID;
INSERT INTO measurements_clustered
    (series_id, run_id, branch_id, ord, started_at, n, mean, median, min, max, stddev, iterations, percentiles)
    SELECT m.series_id, m.run_id, r.branch_id, bc.ord, r.started_at, m.n, m.mean, m.median, m.min, m.max,
           m.stddev, m.iterations, m.percentiles
    FROM measurements m JOIN runs r ON r.id = m.run_id
    LEFT JOIN branch_commits bc ON bc.branch_id = r.branch_id AND bc.commit_id = r.commit_id;
DROP TABLE measurements;
ALTER TABLE measurements_clustered RENAME TO measurements;
CREATE INDEX measurements_run ON measurements (run_id);
