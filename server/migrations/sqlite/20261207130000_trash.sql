-- The trash (docs/decisions.md, "Delete, trash, restore"). A trashed video keeps its row, files
-- and quota until it is purged: by its owner or an admin, or when the retention ends.
ALTER TABLE videos ADD COLUMN trashed_at INTEGER;
-- Who moved it there; forgotten if that account is removed.
ALTER TABLE videos ADD COLUMN trashed_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
-- A purge begun: the video is gone for everyone from this moment; its files, then its row, follow.
-- Housekeeping finishes a purge a crash interrupted.
ALTER TABLE videos ADD COLUMN purge_started_at INTEGER;
CREATE INDEX videos_trashed ON videos(trashed_at) WHERE trashed_at IS NOT NULL;
