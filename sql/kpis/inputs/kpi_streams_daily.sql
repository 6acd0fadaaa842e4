-- input: kpi_streams_daily
-- definition: Daily streams and listeners per platform, one row per date × platform × scope.
-- `artist` null = the whole account: `v_streams_account_daily` (the distributors' account rows,
-- added up because each reports its own catalogue, else the sum of the artist dashboards that
-- day; never both). `artist` set = that artist's
-- dashboard totals (`v_streams_daily` rows with a track of null, names mapped to the canonical
-- artist). Listeners of the account are the distributor's when it gives them, else the sum of
-- the artists' listeners that day (a person who listens to two artists counts twice).
WITH artists AS (
    SELECT v.date, v.platform, coalesce(a.artist, v.artist) AS artist,
           sum(v.streams)::BIGINT AS streams, sum(v.listeners)::BIGINT AS listeners
    FROM v_streams_daily v
    LEFT JOIN kpi_artists a ON a.alias = v.artist
    WHERE v.track IS NULL AND v.artist IS NOT NULL
    GROUP BY ALL
),
artist_listeners AS (
    SELECT date, platform, sum(listeners)::BIGINT AS listeners FROM artists GROUP BY ALL
)
SELECT c.date, c.platform, NULL::VARCHAR AS artist, c.streams::BIGINT AS streams,
       coalesce(c.listeners, l.listeners)::BIGINT AS listeners
FROM v_streams_account_daily c
LEFT JOIN artist_listeners l ON l.date = c.date AND l.platform = c.platform
UNION ALL
SELECT date, platform, artist, streams, listeners FROM artists
