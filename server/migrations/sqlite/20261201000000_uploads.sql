-- Resumable uploads: the client's keyed fingerprint of the file (a PRF under the library key, so it
-- tells the server nothing about the file), kept only while the upload is unfinished. At most one
-- unfinished upload per user and fingerprint, so a client resuming never finds two.
ALTER TABLE videos ADD COLUMN upload_fingerprint BLOB;
CREATE UNIQUE INDEX videos_open_upload ON videos(owner_id, upload_fingerprint)
    WHERE status = 'uploading' AND upload_fingerprint IS NOT NULL;
-- The abandoned-upload sweep looks for old unfinished uploads.
CREATE INDEX videos_status_updated ON videos(status, updated_at);
