-- The client's MAC over an unfinished upload's record (video id, stream header, size, chunk count,
-- fingerprint), made under a key derived from the library key; opaque to the server, which stores
-- it on create and returns it with the resume record. Rows from before this column have none, and
-- clients never resume such an upload (docs/uploads.md).
ALTER TABLE videos ADD COLUMN upload_mac BLOB;
