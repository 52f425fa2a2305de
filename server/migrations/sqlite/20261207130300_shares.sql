-- Share links (docs/api.md, "Share links"; docs/format.md, "Share links"): one video shown to
-- someone outside the group through /s/<id>#<secret>. The secret never reaches the server; the
-- wrapped key opens only with it.
CREATE TABLE shares (
    id             TEXT    PRIMARY KEY,       -- 32 lowercase hex chars (128 random bits), parsed by ShareId
    video_id       TEXT    NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    created_by     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    wrapped_key    BLOB    NOT NULL,          -- the DEK wrapped under the key derived from the secret
    expires_at     INTEGER,                   -- Unix seconds; NULL never expires
    allow_download INTEGER NOT NULL CHECK (allow_download IN (0, 1)),
    view_count     INTEGER NOT NULL DEFAULT 0,
    revoked_at     INTEGER,                   -- Unix seconds, once withdrawn
    created_at     INTEGER NOT NULL
);
CREATE INDEX shares_video ON shares(video_id, created_at DESC);
CREATE INDEX shares_creator ON shares(created_by, created_at DESC);
