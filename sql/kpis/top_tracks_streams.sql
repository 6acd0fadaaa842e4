-- kpi: top_tracks_streams
-- topic: streams
-- unit: streams
-- period: all time
-- definition: The 10 most streamed tracks, all time, all platforms, ranked by streams. Counted
-- from the daily per-track numbers of the artist dashboards (`v_streams_daily` rows with a
-- track, one source per day) when they cover the catalogue, else from the streaming units of
-- the royalty statements per ISRC, which cover every store but lag one to three months (the
-- input kpi_tracks decides; `period` says which: "all time (daily stats)" or "all time (royalty
-- statements)"). `breakdown` is the title; on the rows for all artists, "Artist — Title".
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY scope ORDER BY streams DESC, title, track_key) AS rank,
           max(as_of) OVER (PARTITION BY scope) AS scope_as_of
    FROM kpi_tracks
    WHERE streams > 0
)
SELECT streams::DOUBLE AS value, 'all time (' || basis || ')' AS period, scope_as_of AS as_of, scope AS artist,
       CASE WHEN scope IS NULL AND artist IS NOT NULL THEN artist || ' — ' ELSE '' END
       || coalesce(title, track_key) AS breakdown
FROM ranked
WHERE rank <= 10
