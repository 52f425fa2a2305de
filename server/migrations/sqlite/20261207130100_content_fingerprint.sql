-- Duplicate detection: the client's keyed fingerprint of a video's content (a PRF under the library
-- key, so it tells the server nothing about the content; docs/format.md, "Content fingerprint").
-- Kept for the video's life, unlike upload_fingerprint, which only finds an unfinished upload.
ALTER TABLE videos ADD COLUMN content_fingerprint BLOB;
CREATE INDEX videos_content_fingerprint ON videos(content_fingerprint)
    WHERE content_fingerprint IS NOT NULL;
