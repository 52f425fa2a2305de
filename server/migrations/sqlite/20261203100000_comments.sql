-- Comments (docs/api.md "Comments"). Paging uses comments_video (video_id, created_at, id) from the
-- first schema. This index serves the foreign key from comments to users: removing a user checks
-- that they wrote no comment, which without it reads the whole table (as videos_owner does for
-- videos).
CREATE INDEX comments_author ON comments(author_id);
