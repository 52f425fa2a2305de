-- What processing learnt of a video (recording time, duration, picture size), sealed by the worker
-- under the video's key (purpose `metadata`, docs/format.md): the server cannot read it.
ALTER TABLE videos ADD COLUMN metadata_sealed BLOB;
