-- Production series settings (docs/metrics.md): the timezone of the users behind a
-- scheduled query (local hours of the week for seasonal expectations), a dry-run switch
-- (alerts recorded, no notification), a version label that turns a change of the
-- query's label value into a deploy marker (`build_info{version}`), and how long raw
-- points are kept before only hourly rollups remain.
ALTER TABLE metric_schedules ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE metric_schedules ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_schedules ADD COLUMN marker_label TEXT;
ALTER TABLE metric_schedules ADD COLUMN last_marker TEXT;
ALTER TABLE metric_schedules ADD COLUMN raw_days INTEGER NOT NULL DEFAULT 90;
-- Hourly rollups of a series' points, kept for good after the raw points are dropped.
CREATE TABLE metric_rollups (
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    n INTEGER NOT NULL,
    min REAL NOT NULL,
    mean REAL NOT NULL,
    max REAL NOT NULL,
    p50 REAL NOT NULL,
    p95 REAL NOT NULL,
    PRIMARY KEY (series_id, hour)
);
