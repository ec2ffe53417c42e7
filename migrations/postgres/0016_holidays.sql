-- A project's holiday calendar (issue 13): local dates, in the timezone of its
-- production series, on which traffic is not a normal day of the week. Seasonal deploy
-- verdicts leave weeks touching a holiday out of the expectation and judge a deploy on
-- a holiday against past holidays; production detection does not see a holiday as two
-- changes (docs/detection.md). The date is text YYYY-MM-DD: a calendar date, not an
-- instant, so no timezone is stored with it.
CREATE TABLE holidays (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (project_id, day)
);
