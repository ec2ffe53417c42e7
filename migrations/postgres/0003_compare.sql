-- Short permalinks of compare pages: /c/<id> redirects to the page with `query`.
CREATE TABLE short_links (
    id TEXT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
