-- Min/max tiles of long chart lines (backend/src/store/chart_tiles.rs); see the SQLite
-- migration of the same number for what a tile holds and when it is written.
CREATE TABLE chart_tile_lines (
    series_id BIGINT NOT NULL,
    axis BIGINT NOT NULL,
    branch_id BIGINT NOT NULL,
    origin BIGINT NOT NULL,
    width BIGINT NOT NULL,
    covered_run BIGINT NOT NULL,
    PRIMARY KEY (series_id, axis, branch_id)
);
CREATE TABLE chart_tiles (
    series_id BIGINT NOT NULL,
    axis BIGINT NOT NULL,
    branch_id BIGINT NOT NULL,
    tile BIGINT NOT NULL,
    n BIGINT NOT NULL,
    first_x BIGINT NOT NULL,
    last_x BIGINT NOT NULL,
    min_run BIGINT NOT NULL,
    max_run BIGINT NOT NULL,
    lo_run BIGINT NOT NULL,
    lo_x BIGINT NOT NULL,
    lo_y DOUBLE PRECISION NOT NULL,
    hi_run BIGINT NOT NULL,
    hi_x BIGINT NOT NULL,
    hi_y DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series_id, axis, branch_id, tile)
);
-- Points only disappear with their run (retention, deletes): the tiles of that series
-- may then name points that are gone, so they are dropped and rebuilt on the next read.
-- One call per statement (a retention pass deletes thousands of rows at once).
CREATE FUNCTION drop_chart_tiles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM chart_tile_lines WHERE series_id IN (SELECT DISTINCT series_id FROM gone);
    DELETE FROM chart_tiles WHERE series_id IN (SELECT DISTINCT series_id FROM gone);
    RETURN NULL;
END
$$;
CREATE TRIGGER measurements_drop_chart_tiles AFTER DELETE ON measurements
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION drop_chart_tiles();
