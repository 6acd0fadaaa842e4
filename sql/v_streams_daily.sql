-- One source per date × platform × artist × track within each scope, so no KPI counts the same
-- streams twice.
--
-- Per-artist rows (artist not null: artist dashboards such as Spotify for Artists) all describe
-- the same streams, the artist's on that platform; one source wins by precedence, lowest first.
-- Each source module declares its precedence (`stream_precedence` in assets/sources/<source>.py;
-- the table ref_stream_source_precedence lists them): 1 for the platform's own artist dashboard
-- (spotify_for_artists), 2 toolost, 3 distrokid (distributors); a source that declares none ranks
-- 9; ties go by source name.
--
-- Account rows (artist null) come from distributors, and each distributor reports its own
-- catalogue: the releases it delivers. Two distributors' numbers are different streams (in the
-- fixtures DistroKid shows 382,689 Spotify streams on the 107 days TooLost shows 98,286, and
-- each matches its own royalty lines), so every distributor's account row is kept and they add
-- up. `scope` says which: the distributor for account rows, 'artist' for per-artist rows.
--
-- Scopes never mix: sum either the account rows (artist IS NULL; v_streams_account_daily does
-- it per day) or the per-artist rows (artist = '...'), and either the totals (track IS NULL) or
-- the per-track rows; never both.
CREATE OR REPLACE VIEW v_streams_daily AS
WITH scoped AS (
    SELECT s.*, CASE WHEN s.artist IS NULL THEN s.source ELSE 'artist' END AS scope,
           coalesce(p.priority, 9) AS priority
    FROM fct_streams_daily s
    LEFT JOIN ref_stream_source_precedence p ON p.source = s.source
)
SELECT * EXCLUDE (priority, source_rank) FROM (
    SELECT *, row_number() OVER (PARTITION BY date, platform, artist, track, scope
                                 ORDER BY priority, source) AS source_rank
    FROM scoped
)
WHERE source_rank = 1;
