-- One source per date × platform × artist × track, so no KPI counts the same streams twice.
--
-- Precedence (lowest wins): the platform's own dashboard first, then distributors.
--   1 spotify_for_artists, apple_music_for_artists, amazon_music_for_artists,
--     deezer_for_creators, youtube, soundcloud
--   2 toolost
--   3 distrokid
--   9 any other source (ties broken by source name, so the choice is stable)
--
-- Scopes never mix: `artist IS NULL` rows are the whole account (distributors report every
-- artist of the account together), `track IS NULL` rows are totals over all tracks. Sum either
-- the account rows (artist IS NULL) or the per-artist rows (artist = '...'), and either the
-- totals (track IS NULL) or the per-track rows; never both.
CREATE OR REPLACE VIEW v_streams_daily AS
WITH precedence(source, priority) AS (
    VALUES ('spotify_for_artists', 1), ('apple_music_for_artists', 1), ('amazon_music_for_artists', 1),
           ('deezer_for_creators', 1), ('youtube', 1), ('soundcloud', 1),
           ('toolost', 2), ('distrokid', 3)
),
ranked AS (
    SELECT s.*,
           row_number() OVER (PARTITION BY s.date, s.platform, s.artist, s.track
                              ORDER BY coalesce(p.priority, 9), s.source) AS source_rank
    FROM fct_streams_daily s
    LEFT JOIN precedence p ON p.source = s.source
)
SELECT * EXCLUDE (source_rank) FROM ranked WHERE source_rank = 1;
