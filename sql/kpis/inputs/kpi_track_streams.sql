-- input: kpi_track_streams
-- definition: All-time streams per platform × artist × track from the daily per-track rows of
-- `v_streams_daily` (one source per day; artist dashboards' per-song timelines). Tracks are
-- matched by `title_key` within an artist (so 'Song (feat. X)' and 'Song' are one track);
-- `track` is the spelling with the most streams. `artist` null = per-track rows a source reports
-- for the whole account.
WITH tracks AS (
    SELECT platform, artist, track, max(isrc) AS isrc, sum(streams) AS streams,
           min(date) AS first_date, max(date) AS last_date
    FROM v_streams_daily
    WHERE track IS NOT NULL
    GROUP BY ALL
)
SELECT t.platform, coalesce(a.artist, t.artist) AS artist,
       coalesce(title_key(t.track), t.track) AS track_key,
       arg_max(t.track, t.streams) AS track, max(t.isrc) AS isrc,
       sum(t.streams)::BIGINT AS streams, min(t.first_date) AS first_date, max(t.last_date) AS last_date
FROM tracks t
LEFT JOIN kpi_artists a ON a.alias = t.artist
GROUP BY ALL
