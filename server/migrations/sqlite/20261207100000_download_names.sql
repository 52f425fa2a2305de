-- Downloads no longer keep the file name in plaintext: the server reads the video's sealed name
-- with the key it holds while a download is queued or ready (docs/downloads.md). Names kept
-- until now go with the column.
ALTER TABLE downloads DROP COLUMN file_name;
