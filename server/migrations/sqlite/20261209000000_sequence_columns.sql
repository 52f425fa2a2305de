-- Explicit insertion order for the tables whose pages and tie-breaks used SQLite's rowid, so the
-- same queries run on PostgreSQL (an identity column there). Filled from the current order; new
-- rows take the next number (SQLite admits one writer at a time, so MAX + 1 cannot race).
ALTER TABLE videos ADD COLUMN seq INTEGER;
UPDATE videos SET seq = rowid;
CREATE UNIQUE INDEX videos_seq ON videos(seq);
CREATE TRIGGER videos_seq_next AFTER INSERT ON videos WHEN NEW.seq IS NULL
BEGIN
    UPDATE videos SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM videos) WHERE rowid = NEW.rowid;
END;

ALTER TABLE comments ADD COLUMN seq INTEGER;
UPDATE comments SET seq = rowid;
CREATE UNIQUE INDEX comments_seq ON comments(seq);
CREATE TRIGGER comments_seq_next AFTER INSERT ON comments WHEN NEW.seq IS NULL
BEGIN
    UPDATE comments SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM comments) WHERE rowid = NEW.rowid;
END;

ALTER TABLE downloads ADD COLUMN seq INTEGER;
UPDATE downloads SET seq = rowid;
CREATE UNIQUE INDEX downloads_seq ON downloads(seq);
CREATE TRIGGER downloads_seq_next AFTER INSERT ON downloads WHEN NEW.seq IS NULL
BEGIN
    UPDATE downloads SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM downloads) WHERE rowid = NEW.rowid;
END;
