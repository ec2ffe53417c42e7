-- Metric sources of a project (docs/metrics.md): a Prometheus-compatible API and its
-- queries, as the same TOML table a job definition's [metrics] holds, checked when
-- saved. A bearer token is sealed with the server key, never stored in the clear.
CREATE TABLE metric_sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('prometheus')),
    config TEXT NOT NULL,
    bearer_token TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
