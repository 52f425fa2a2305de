-- Cloister's first schema: the tables of DESIGN.md §3.
-- Times are Unix seconds (INTEGER); binary secrets are BLOBs; nothing here is plaintext media or a key
-- the server could use without a member's browser, except jobs.wrapped_server_dek (wrapped under
-- server.key, erased when the job ends).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    quota_bytes   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash  BLOB    PRIMARY KEY,          -- SHA-256 of the cookie's token; the token itself is never stored
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One row at most: the group's library key, wrapped under the passphrase key.
CREATE TABLE library (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    kdf_salt            BLOB    NOT NULL,
    kdf_m_cost_kib      INTEGER NOT NULL,
    kdf_t_cost          INTEGER NOT NULL,
    kdf_p_cost          INTEGER NOT NULL,
    wrapped_library_key BLOB    NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE videos (
    id             TEXT    PRIMARY KEY,       -- 32 lowercase hex chars, parsed by VideoId
    owner_id       INTEGER NOT NULL REFERENCES users(id),
    status         TEXT    NOT NULL CHECK (status IN ('uploading', 'uploaded', 'processing', 'ready', 'failed')),
    size_bytes     INTEGER NOT NULL,          -- plaintext size of the original
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    wrapped_dek    BLOB    NOT NULL,
    title_sealed   BLOB    NOT NULL,
    description_sealed BLOB,
    stream_header  BLOB    NOT NULL,          -- the original's 41-byte sealed-stream header
    chunk_size     INTEGER NOT NULL,
    chunk_count    INTEGER NOT NULL,
    duration_ms    INTEGER,
    manifest_path  TEXT,
    thumb_path     TEXT
);
CREATE INDEX videos_page ON videos(created_at DESC, id DESC);
CREATE INDEX videos_owner ON videos(owner_id);

CREATE TABLE upload_chunks (
    video_id    TEXT    NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    sealed_len  INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (video_id, chunk_index)
);

CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY,
    video_id           TEXT    NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    kind               TEXT    NOT NULL CHECK (kind IN ('process', 'download')),
    status             TEXT    NOT NULL CHECK (status IN ('queued', 'waiting_resource', 'running', 'done', 'failed', 'cancelled')),
    phase              TEXT,
    percent            REAL    NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    priority           INTEGER NOT NULL DEFAULT 0,
    queued_at          INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    retry_at           INTEGER,
    lease_until        INTEGER,
    eta_seconds        INTEGER,
    error              TEXT,
    wait_reason        TEXT,
    wrapped_server_dek BLOB
);
CREATE INDEX jobs_ready ON jobs(status, priority DESC, queued_at);
CREATE INDEX jobs_video ON jobs(video_id);

CREATE TABLE job_metrics (
    id               INTEGER PRIMARY KEY,
    job_id           INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    size_bytes       INTEGER NOT NULL,
    seconds          REAL    NOT NULL,
    seconds_per_gb   REAL    NOT NULL,
    peak_rss_bytes   INTEGER,
    finished_at      INTEGER NOT NULL
);

CREATE TABLE comments (
    id          TEXT    PRIMARY KEY,
    video_id    TEXT    NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    author_id   INTEGER NOT NULL REFERENCES users(id),
    body_sealed BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_video ON comments(video_id, created_at, id);
