-- input: kpi_tracks
-- definition: All-time streams per track for each scope (`scope` null = all artists, else the
-- canonical artist), from the best complete source of per-track numbers. Daily per-track stats
-- (kpi_track_streams; for all artists a platform's per-track rows for the whole account when a
-- source gives them, else the artists') are used when they add up to at least 80 % of the
-- scope's daily streams on the same platforms and days (kpi_streams_daily), i.e. when they cover
-- the catalogue rather than the few songs someone exported a timeline for, or when the scope has
-- no daily totals to compare with. Otherwise the streaming units of the royalty statements per
-- recording are used (kpi_royalties_by_track: every store, but one to three months behind).
-- `basis` says which: 'daily stats' or 'royalty statements'.
WITH account_daily AS (  -- all artists: a platform's account-wide track rows when there are any, else the artists'
    SELECT * FROM kpi_track_streams t
    WHERE (t.artist IS NULL) = EXISTS (SELECT 1 FROM kpi_track_streams x WHERE x.platform = t.platform AND x.artist IS NULL)
),
daily AS (
    SELECT NULL::VARCHAR AS scope, artist, platform, track_key, track, streams, first_date, last_date FROM account_daily
    UNION ALL
    SELECT artist, artist, platform, track_key, track, streams, first_date, last_date FROM kpi_track_streams
    WHERE artist IS NOT NULL
),
coverage AS (
    SELECT scope, sum(streams) AS track_streams, min(first_date) AS first_date, max(last_date) AS last_date,
           list(DISTINCT platform) AS platforms
    FROM daily GROUP BY scope
),
totals AS (
    SELECT c.scope, sum(d.streams) AS total_streams
    FROM coverage c
    JOIN kpi_streams_daily d ON d.artist IS NOT DISTINCT FROM c.scope AND list_contains(c.platforms, d.platform)
                            AND d.date BETWEEN c.first_date AND c.last_date
    GROUP BY c.scope
),
complete AS (
    SELECT c.scope FROM coverage c LEFT JOIN totals t ON t.scope IS NOT DISTINCT FROM c.scope
    WHERE coalesce(t.total_streams, 0) = 0 OR c.track_streams >= 0.8 * t.total_streams
),
from_daily AS (
    SELECT d.scope, d.artist, d.track_key, arg_max(d.track, d.streams) AS title, sum(d.streams)::BIGINT AS streams,
           max(d.last_date) AS as_of, 'daily stats' AS basis
    FROM daily d
    WHERE EXISTS (SELECT 1 FROM complete c WHERE c.scope IS NOT DISTINCT FROM d.scope)
    GROUP BY d.scope, d.artist, d.track_key
),
statement_scopes AS (
    SELECT NULL::VARCHAR AS scope, artist, isrc, title, stream_quantity, last_reporting_date FROM kpi_royalties_by_track
    UNION ALL
    SELECT artist, artist, isrc, title, stream_quantity, last_reporting_date FROM kpi_royalties_by_track
    WHERE artist IS NOT NULL
)
SELECT * FROM from_daily
UNION ALL
SELECT s.scope, s.artist, coalesce(s.isrc, s.title) AS track_key, s.title, s.stream_quantity::BIGINT,
       s.last_reporting_date, 'royalty statements'
FROM statement_scopes s
WHERE NOT EXISTS (SELECT 1 FROM from_daily f WHERE f.scope IS NOT DISTINCT FROM s.scope)
