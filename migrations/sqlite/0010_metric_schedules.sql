-- Scheduled production series (docs/metrics.md): one query of a metric source read
-- every `step` into time-indexed runs, backfilled from `watermark` (the last point
-- stored, ms) in chunks and kept behind now − the source's settle delay.
CREATE TABLE metric_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL REFERENCES metric_sources(id) ON DELETE CASCADE,
    query_name TEXT NOT NULL,
    step_s INTEGER NOT NULL CHECK (step_s >= 1),
    watermark INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (source_id, query_name)
);
