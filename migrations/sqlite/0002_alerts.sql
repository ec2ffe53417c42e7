-- Alerts, alert groups and threshold rules (SQLite dialect). Times are integer ms.
-- A suspect range is (range_lo, range_hi] on an axis: commit order on the main branch
-- ('commit') or run time in ms ('time', for series without commits). Ranges on one axis
-- that overlap put their alerts in one group.
CREATE TABLE alert_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    axis TEXT NOT NULL CHECK (axis IN ('commit', 'time')),
    range_lo INTEGER NOT NULL,
    range_hi INTEGER NOT NULL,
    first_commit_id INTEGER REFERENCES commits(id),
    last_commit_id INTEGER REFERENCES commits(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX alert_groups_project ON alert_groups (project_id, axis, range_lo, range_hi);
CREATE TABLE threshold_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    series_id INTEGER REFERENCES series(id) ON DELETE CASCADE,
    measure TEXT,
    rule TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (series_id IS NULL OR measure IS NULL)
);
CREATE INDEX threshold_rules_project ON threshold_rules (project_id);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('changepoint', 'threshold')),
    rule_id INTEGER REFERENCES threshold_rules(id) ON DELETE SET NULL,
    direction TEXT NOT NULL CHECK (direction IN ('regression', 'improvement')),
    axis TEXT NOT NULL CHECK (axis IN ('commit', 'time')),
    range_lo INTEGER NOT NULL,
    range_hi INTEGER NOT NULL,
    first_bad_run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    last_good_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    first_bad_commit_id INTEGER REFERENCES commits(id),
    last_good_commit_id INTEGER REFERENCES commits(id),
    first_bad_at INTEGER NOT NULL,
    before_median REAL NOT NULL,
    after_median REAL NOT NULL,
    relative_change REAL NOT NULL,
    absolute_change REAL NOT NULL,
    p_value REAL,
    details TEXT,
    status TEXT NOT NULL DEFAULT 'untriaged',
    group_id INTEGER REFERENCES alert_groups(id) ON DELETE SET NULL,
    detected_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX alerts_series ON alerts (series_id, kind);
CREATE INDEX alerts_project ON alerts (project_id, detected_at);
CREATE INDEX alerts_group ON alerts (group_id);
