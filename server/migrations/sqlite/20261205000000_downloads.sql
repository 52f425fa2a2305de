-- The name the uploaded file had, sealed like the title (Purpose::FileName); older videos have none.
ALTER TABLE videos ADD COLUMN file_name_sealed BLOB;

-- Server-side decrypted downloads (docs/downloads.md). A row holds the video's DEK, wrapped under
-- the server key, only while the download is queued or ready; it is erased when the download ends.
CREATE TABLE downloads (
    id           TEXT    PRIMARY KEY,             -- 32 random lowercase hex digits
    video_id     TEXT    NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'ready', 'done', 'cancelled', 'expired')),
    wrapped_dek  BLOB,                            -- NULL once the download is over
    file_name    TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    ready_at     INTEGER,
    expires_at   INTEGER,                          -- while ready: the link stops working then
    finished_at  INTEGER,
    bytes_sent   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX downloads_state ON downloads(state, created_at);
CREATE INDEX downloads_user ON downloads(user_id, created_at);
