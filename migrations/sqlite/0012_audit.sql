-- Accounts security (issue 17 items 2 and 4), SQLite dialect: API tokens may expire;
-- the audit log of security-relevant actions; sessions by user (log out everywhere,
-- privilege changes end every session of the user).
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    -- `user:NAME`, `token:NAME`, `github:@LOGIN`, `local` (command line), `anonymous`.
    actor TEXT NOT NULL,
    -- `login`, `login.failed`, `logout`, `logout.all`, `token.create`, `token.revoke`,
    -- `user.create`, `membership.set`, `github.integration`, `metric_source.put`,
    -- `job.enqueue`, `job.cancel`, `job.rerun`, `job.command`.
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    -- A JSON object; never a secret.
    details TEXT NOT NULL DEFAULT '{}',
    -- The client's IP address, when the action came over HTTP.
    address TEXT
);
CREATE INDEX audit_log_action ON audit_log (action, id);
