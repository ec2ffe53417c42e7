-- When a new alert group's "group created" event was queued (docs/alerts.md). Set in
-- the transaction that queues its deliveries, so a detection pass killed after it made
-- the group but before it announced it leaves the group unannounced, and the next pass
-- announces it — instead of treating it as old. Existing groups count as announced.
ALTER TABLE alert_groups ADD COLUMN announced_at INTEGER;
UPDATE alert_groups SET announced_at = created_at;
