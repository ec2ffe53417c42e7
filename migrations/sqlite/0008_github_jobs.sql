-- Performance jobs from GitHub (docs/jobs.md). A project may link one GitHub
-- repository; its webhook deliveries land in an inbox keyed by GitHub's delivery id (a
-- replay inserts nothing); each push to a master branch or pull-request head becomes a
-- perf job, executed by a `perf.run` work-queue job whose fence guards every write of the
-- job, stored by a separate `perf.store` job, and reported back by `github.report` jobs
-- (the outbox).
CREATE TABLE github_integrations (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    -- owner/name, lower-case.
    repo TEXT NOT NULL UNIQUE,
    -- Sealed with the server key (AES-256-GCM, hex nonce||ciphertext): the webhook
    -- secret must be recoverable to verify signatures, so it cannot be hashed.
    webhook_secret TEXT NOT NULL,
    -- Reporting credentials: a token, or a GitHub App (id, installation, sealed key).
    token TEXT,
    app_id INTEGER,
    installation_id INTEGER,
    app_key TEXT,
    api_base TEXT NOT NULL,
    -- Where workers fetch the repository (a URL or, in tests, a local path).
    clone_url TEXT NOT NULL,
    -- JSON arrays of branch names and GitHub logins.
    master_branches TEXT NOT NULL,
    commanders TEXT NOT NULL,
    -- The job definition used when a commit has no .perfwatch.toml.
    definition TEXT,
    concurrency INTEGER NOT NULL DEFAULT 1 CHECK (concurrency >= 1),
    reconcile_every_s INTEGER NOT NULL DEFAULT 300,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE github_deliveries (
    delivery_id TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    -- What processing did with it, e.g. "queued job 12", "ignored: tag push".
    outcome TEXT
);

CREATE TABLE perf_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('master', 'pr', 'backfill', 'manual', 'confirm')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'processed',
                                         'failed', 'dead', 'canceled', 'superseded')),
    sha TEXT NOT NULL,
    branch TEXT,
    pr_number INTEGER,
    -- The merge-base a PR is compared at (set when the job runs).
    base_sha TEXT,
    -- 0: as the job definition says.
    repeats INTEGER NOT NULL,
    -- Head of the PR's branch and the pushed branch (for links and supersede).
    head_ref TEXT,
    requested_by TEXT NOT NULL,
    -- The work_queue row executing it now; its fence guards every worker write.
    work_id INTEGER,
    definition_hash TEXT,
    testbed TEXT,
    -- JSON output of a completed run, kept until the results are stored.
    output TEXT,
    -- Set by supersede/cancel of a running job; the worker stops within a heartbeat.
    stop_requested TEXT,
    error_class TEXT CHECK (error_class IN ('transient', 'permanent')),
    error TEXT,
    verdict TEXT,
    report TEXT,
    -- JSON array of the run ids stored from this job (head and base sides).
    run_ids TEXT,
    -- The job this one waits for (a master backfill at the merge-base).
    waits_for INTEGER,
    check_run_id INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX perf_jobs_project ON perf_jobs (project_id, state, created_at);
CREATE INDEX perf_jobs_commit ON perf_jobs (project_id, sha);
CREATE INDEX perf_jobs_pr ON perf_jobs (project_id, pr_number);

CREATE TABLE perf_job_logs (
    job_id INTEGER NOT NULL REFERENCES perf_jobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    stream TEXT NOT NULL,
    line TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- The sticky comment of each pull request (found by its marker, remembered here).
CREATE TABLE github_pr_comments (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    pr_number INTEGER NOT NULL,
    comment_id INTEGER,
    last_verdict TEXT,
    PRIMARY KEY (project_id, pr_number)
);
