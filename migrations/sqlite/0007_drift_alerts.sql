-- Alerts of kind 'drift': a gradual change found by detection's trend pass (slope and
-- span in `details`).
--
-- SQLite cannot alter a CHECK constraint. Widening one (every stored row still satisfies
-- it) is a change SQLite's ALTER TABLE documentation allows by editing the table's stored
-- definition ("making other kinds of table schema changes"). A rebuild of the table would
-- instead have to know every column later migrations add, and dropping the old table with
-- foreign keys on (they cannot be turned off inside the migration's transaction) would
-- null the triage records that reference alerts.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'CHECK (kind IN (''changepoint'', ''threshold''))',
                       'CHECK (kind IN (''changepoint'', ''threshold'', ''drift''))')
WHERE type = 'table' AND name = 'alerts';
-- RESET turns schema writing off and makes this connection re-read the schema.
PRAGMA writable_schema = RESET;
-- Fails the migration unless the edit took. Creating and dropping a table also bumps the
-- schema cookie, so every other open connection re-reads the schema too.
CREATE TABLE drift_migration_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO drift_migration_check
SELECT instr(sql, '''drift''') > 0 FROM sqlite_master WHERE type = 'table' AND name = 'alerts';
INSERT INTO drift_migration_check
SELECT COUNT(*) = 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts';
DROP TABLE drift_migration_check;
