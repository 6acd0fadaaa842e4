-- The per-video lifetime totals as of each export, under the name and columns the table had
-- before it became fct_social_posts (which also holds per-day and per-window rows and posts
-- that are not videos): the lifetime rows of videos. Kept so queries written against it go on working.
CREATE OR REPLACE VIEW fct_social_videos AS
SELECT date AS snapshot_date, platform, account, post_id AS video_id, title, url, posted_at,
       views, likes, comments, shares, source, sha256, observed_at
FROM fct_social_posts
WHERE period = 'lifetime' AND post_type = 'video'
