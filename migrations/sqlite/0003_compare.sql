-- Short permalinks of compare pages: /c/<id> redirects to the page with `query`.
CREATE TABLE short_links (
    id TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    query TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
