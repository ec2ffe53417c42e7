-- One persistent work queue for all background work (docs/architecture.md, "Work queue").
-- A job is claimed by one statement that sets the lease and bumps `fence`; every later
-- write of that worker names the fence it got, so a worker whose lease expired and was
-- taken over cannot complete, fail or heartbeat the job any more.
CREATE TABLE work_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    -- JSON text; its shape belongs to the kind.
    payload TEXT NOT NULL,
    -- Jobs that coalesce (one pending "detect project P" job) share a key; at most one
    -- queued job per key (the partial index below).
    coalesce_key TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'dead')),
    not_before INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    -- Wait after the first failed attempt, ms; doubles after each further one.
    backoff_ms INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    fence INTEGER NOT NULL DEFAULT 0,
    heartbeat_at INTEGER,
    -- Claims that took the job over from an expired lease.
    takeovers INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX work_queue_claimable ON work_queue (state, kind, priority DESC, created_at);
CREATE UNIQUE INDEX work_queue_one_queued_per_key ON work_queue (coalesce_key)
    WHERE state = 'queued' AND coalesce_key IS NOT NULL;

-- Deliveries that were pending under the old poller become queue jobs.
INSERT INTO work_queue (kind, payload, priority, state, not_before, attempts, max_attempts,
                        backoff_ms, created_at, updated_at)
SELECT 'webhook.delivery', '{"delivery_id":' || id || '}', 0, 'queued', next_attempt_at,
       attempts, CASE WHEN attempts >= 6 THEN attempts + 1 ELSE 6 END, 30000,
       created_at, created_at
FROM webhook_deliveries WHERE status = 'pending';
