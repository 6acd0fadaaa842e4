-- kpi: streams_last_7d
-- topic: streams
-- unit: streams
-- period: last 7 days
-- definition: Streams in the 7 days up to the newest day of the data (not today: `as_of` says
-- which day), all platforms, from the same daily data as streams_total. Platforms report with
-- different delays, so the 7 days end on the newest day that every platform of the scope has
-- reported; a platform with no data in the 7 days before the newest day at all has stopped
-- reporting and is left out.
WITH series AS (
    SELECT artist, platform, max(date) AS last_day FROM kpi_streams_daily GROUP BY ALL
),
live AS (  -- platforms that reported in the 7 days before the scope's newest day
    SELECT * FROM (SELECT *, max(last_day) OVER (PARTITION BY artist) AS newest FROM series)
    WHERE last_day > newest - 7
),
ends AS (SELECT artist, platform, min(last_day) OVER (PARTITION BY artist) AS end_day FROM live)
SELECT sum(d.streams)::DOUBLE AS value, 'last 7 days' AS period, any_value(e.end_day) AS as_of,
       e.artist, NULL::VARCHAR AS breakdown
FROM kpi_streams_daily d
JOIN ends e ON e.artist IS NOT DISTINCT FROM d.artist AND e.platform = d.platform
WHERE d.date BETWEEN e.end_day - 6 AND e.end_day
GROUP BY e.artist
