-- The job queue's bookkeeping (DESIGN.md §4) and the log of live events.

-- Which worker holds a running job's lease ("<host>:<pid>:<n>").
ALTER TABLE jobs ADD COLUMN worker_id TEXT;
-- The rendition the current attempt writes (videos/<id>/r<rendition>/): removed if the attempt dies.
ALTER TABLE jobs ADD COLUMN rendition TEXT;
-- Start of the current run of deferrals; a job deferred for longer than the escalation limit is overdue.
ALTER TABLE jobs ADD COLUMN deferred_since INTEGER;
-- An admin said "run it anyway": the gate is skipped for this job alone.
ALTER TABLE jobs ADD COLUMN run_anyway INTEGER NOT NULL DEFAULT 0;
-- Plaintext size of the video, copied so the queue can be ordered and estimated without a join.
ALTER TABLE jobs ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET size_bytes = (SELECT size_bytes FROM videos WHERE videos.id = jobs.video_id);

-- The published rendition (the manifest names it).
ALTER TABLE videos ADD COLUMN rendition TEXT;

-- Every event, in order, for the WebSocket hub to relay; a worker in another process writes here
-- too. Old rows are swept.
CREATE TABLE job_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    payload  TEXT    NOT NULL
);
