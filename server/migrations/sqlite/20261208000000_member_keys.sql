-- Keys for people (docs/accounts.md, "Keys for people"; formats in docs/format.md, "Member keys").
-- The server stores public keys, private keys wrapped under each member's passphrase key, and the
-- library key sealed to public keys: nothing here opens anything.

-- A member's X25519 key pair: the private key wrapped under their own passphrase key.
CREATE TABLE member_keys (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    public_key          BLOB    NOT NULL,
    kdf_salt            BLOB    NOT NULL,
    kdf_m_cost_kib      INTEGER NOT NULL,
    kdf_t_cost          INTEGER NOT NULL,
    kdf_p_cost          INTEGER NOT NULL,
    wrapped_private_key BLOB    NOT NULL,
    created_at          INTEGER NOT NULL
);

-- The library key of one generation sealed to one member's public key: their access.
CREATE TABLE library_grants (
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    generation         INTEGER NOT NULL,
    public_key         BLOB    NOT NULL,          -- the key it was sealed to
    sealed_library_key BLOB    NOT NULL,
    granted_by         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    granted_at         INTEGER NOT NULL,
    PRIMARY KEY (user_id, generation)
);

-- The library row, rebuilt: the shared passphrase's columns become nullable (NULL once every
-- member has their own keys, or after the first key change) and the key generation, the recovery
-- key and a key change's state join them.
CREATE TABLE library_new (
    id                           INTEGER PRIMARY KEY CHECK (id = 1),
    key_generation               INTEGER NOT NULL DEFAULT 1,
    shared_kdf_salt              BLOB,
    shared_kdf_m_cost_kib        INTEGER,
    shared_kdf_t_cost            INTEGER,
    shared_kdf_p_cost            INTEGER,
    shared_wrapped_library_key   BLOB,
    recovery_public_key          BLOB,
    recovery_sealed_key          BLOB,            -- sealed for key_generation
    previous_wrapped_key         BLOB,            -- generation - 1 under the current key, during a key change
    rotation_needed_for          TEXT    NOT NULL DEFAULT '[]',  -- JSON array of removed usernames
    created_at                   INTEGER NOT NULL,
    updated_at                   INTEGER NOT NULL
);
INSERT INTO library_new (id, key_generation, shared_kdf_salt, shared_kdf_m_cost_kib,
                         shared_kdf_t_cost, shared_kdf_p_cost, shared_wrapped_library_key,
                         created_at, updated_at)
    SELECT id, 1, kdf_salt, kdf_m_cost_kib, kdf_t_cost, kdf_p_cost, wrapped_library_key,
           created_at, updated_at
    FROM library;
DROP TABLE library;
ALTER TABLE library_new RENAME TO library;

-- Which generation's library key a video's DEK is wrapped under.
ALTER TABLE videos ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 1;
CREATE INDEX videos_key_generation ON videos(key_generation);

-- Key changes: at most one unfinished (finished_at NULL) at a time.
CREATE TABLE key_rotations (
    to_generation INTEGER PRIMARY KEY,
    started_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    started_at    INTEGER NOT NULL,
    total_videos  INTEGER NOT NULL,
    covers        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of the removed usernames it answers
    finished_at   INTEGER
);
CREATE UNIQUE INDEX key_rotations_one_unfinished ON key_rotations((finished_at IS NULL))
    WHERE finished_at IS NULL;

-- The first-run setup link's secret (only its SHA-256), valid until used.
CREATE TABLE setup_tokens (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    token_hash BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Recovery challenges: the answer's SHA-256, single use, short-lived.
CREATE TABLE recovery_challenges (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    answer_hash BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL
);
