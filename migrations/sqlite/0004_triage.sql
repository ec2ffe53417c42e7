-- Triage (issue 6), SQLite dialect: accounts, sessions, roles, token scopes, the alert
-- workflow with history and notes, tickets, learned series sensitivity, webhooks.
-- Existing tokens keep full rights (they could do everything before scopes existed).
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'ingest,triage,admin';
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'triager', 'admin'))
);
CREATE INDEX memberships_user ON memberships (user_id);
ALTER TABLE alerts ADD COLUMN assignee TEXT;
ALTER TABLE alerts ADD COLUMN fixed_commit TEXT;
ALTER TABLE alert_groups ADD COLUMN state TEXT;
ALTER TABLE alert_groups ADD COLUMN assignee TEXT;
ALTER TABLE alert_groups ADD COLUMN fixed_commit TEXT;
ALTER TABLE alert_groups ADD COLUMN ticket_key TEXT;
ALTER TABLE alert_groups ADD COLUMN ticket_url TEXT;
CREATE TABLE triage_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES alert_groups(id) ON DELETE SET NULL,
    alert_id INTEGER REFERENCES alerts(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX triage_history_group ON triage_history (group_id, at);
CREATE TABLE triage_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL REFERENCES alert_groups(id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE series_sensitivity (
    series_id INTEGER PRIMARY KEY REFERENCES series(id) ON DELETE CASCADE,
    min_change REAL NOT NULL,
    alert_id INTEGER,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL
);
CREATE TABLE ticket_templates (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('github', 'jira')),
    base_url TEXT NOT NULL,
    jira_project TEXT
);
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'slack')),
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
