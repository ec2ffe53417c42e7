-- Why a run is invalid, or NULL for a valid run: the one place validity is decided.
-- A run whose metadata says `"valid": false` (the load runner's validity gate:
-- generator saturated, rate under target, lag, drops, a failed probe, a crashed
-- driver) is stored and shown, but detection, baselines and comparisons leave it out
-- (docs/load.md). The value is the metadata's `invalid_reasons` (a JSON array of
-- strings). Generated from the metadata, so every write path sets it.
ALTER TABLE runs ADD COLUMN invalid_reason TEXT GENERATED ALWAYS AS (
    CASE WHEN metadata::jsonb -> 'valid' = 'false'::jsonb
         THEN COALESCE((metadata::jsonb -> 'invalid_reasons')::text, '[]') END) STORED;
