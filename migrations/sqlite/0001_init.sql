-- perfwatch schema, SQLite dialect. Times are integers: milliseconds since the epoch.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    main_branch TEXT NOT NULL DEFAULT 'main',
    repo_url TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE testbeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE measures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    display_unit TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('lower', 'higher')),
    UNIQUE (project_id, name, unit)
);
CREATE TABLE series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    benchmark TEXT NOT NULL,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    testbed_id INTEGER NOT NULL REFERENCES testbeds(id),
    params TEXT NOT NULL DEFAULT '',
    UNIQUE (project_id, testbed_id, benchmark, measure_id, params)
);
CREATE TABLE branches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE commits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sha TEXT NOT NULL,
    parent_sha TEXT,
    author TEXT,
    message TEXT,
    committed_at INTEGER,
    UNIQUE (project_id, sha)
);
CREATE TABLE branch_commits (
    branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    PRIMARY KEY (branch_id, commit_id),
    UNIQUE (branch_id, ord)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    branch_id INTEGER REFERENCES branches(id),
    commit_id INTEGER REFERENCES commits(id),
    testbed_id INTEGER NOT NULL REFERENCES testbeds(id),
    run_key TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    trigger_kind TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, run_key)
);
CREATE INDEX runs_project_time ON runs (project_id, started_at);
CREATE INDEX runs_commit ON runs (commit_id);
CREATE TABLE measurements (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    mean REAL NOT NULL,
    median REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    stddev REAL NOT NULL,
    iterations INTEGER,
    percentiles TEXT,
    samples TEXT NOT NULL,
    PRIMARY KEY (series_id, run_id)
);
CREATE INDEX measurements_run ON measurements (run_id);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('release', 'deploy', 'infra', 'note')),
    commit_id INTEGER REFERENCES commits(id),
    at INTEGER NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, kind, name)
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);
