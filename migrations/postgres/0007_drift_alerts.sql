-- Alerts of kind 'drift': a gradual change found by detection's trend pass (slope and
-- span in `details`).
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('changepoint', 'threshold', 'drift'));
