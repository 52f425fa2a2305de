-- One-time invites an admin hands out: the invitee picks a username and password. Only the
-- SHA-256 of the token is stored; the token itself travels in the invite link's URL fragment.
CREATE TABLE invites (
    token_hash  BLOB    PRIMARY KEY,
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    -- An invite dies with the admin who made it.
    created_by  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX invites_expiry ON invites(expires_at);
