-- Min/max tiles of long chart lines (backend/src/store/chart_tiles.rs), so a series page
-- with 1,000,000 points reads ~16,000 tile rows instead of every point.
--
-- A line is one series on one x axis (0 = commit order, 1 = time), for one branch (-1 =
-- every branch). Its x axis is cut into tiles of a fixed width chosen when the line is
-- first tiled (about 64 points a tile then). A tile keeps how many points it holds,
-- their x extent and run-id range, and its lowest and highest point, so every spike
-- survives. Tiles are filled lazily by the first chart read of a long line and then
-- extended from the points of newer runs (run id above `covered_run`), so ingest writes
-- nothing here.
CREATE TABLE chart_tile_lines (
    series_id INTEGER NOT NULL,
    axis INTEGER NOT NULL,
    branch_id INTEGER NOT NULL,
    origin INTEGER NOT NULL,
    width INTEGER NOT NULL,
    covered_run INTEGER NOT NULL,
    PRIMARY KEY (series_id, axis, branch_id)
) WITHOUT ROWID;
CREATE TABLE chart_tiles (
    series_id INTEGER NOT NULL,
    axis INTEGER NOT NULL,
    branch_id INTEGER NOT NULL,
    tile INTEGER NOT NULL,
    n INTEGER NOT NULL,
    first_x INTEGER NOT NULL,
    last_x INTEGER NOT NULL,
    min_run INTEGER NOT NULL,
    max_run INTEGER NOT NULL,
    lo_run INTEGER NOT NULL,
    lo_x INTEGER NOT NULL,
    lo_y REAL NOT NULL,
    hi_run INTEGER NOT NULL,
    hi_x INTEGER NOT NULL,
    hi_y REAL NOT NULL,
    PRIMARY KEY (series_id, axis, branch_id, tile)
) WITHOUT ROWID;
-- Points only disappear with their run (retention, deletes): the tiles of that series
-- may then name points that are gone, so they are dropped and rebuilt on the next read.
CREATE TRIGGER measurements_drop_chart_tiles AFTER DELETE ON measurements
BEGIN
    DELETE FROM chart_tile_lines WHERE series_id = OLD.series_id;
    DELETE FROM chart_tiles WHERE series_id = OLD.series_id;
END;
