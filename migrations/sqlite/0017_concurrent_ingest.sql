-- The PostgreSQL migration of this number lets concurrent runs stop waiting for each
-- other's row locks: it drops the foreign keys from measurements and
-- measurement_samples to series, and orders a commit on its branch in one function
-- call. SQLite needs neither: its foreign-key check is one index probe that takes no
-- lock, and one writer runs at a time, so the order is read and written under it.
SELECT 1;
