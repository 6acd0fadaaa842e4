-- kpi: streams_growth_pct_wow
-- topic: streams
-- unit: %
-- period: last 7 days vs the 7 before
-- definition: Week-over-week growth of streams: streams in the last 7 days (as in
-- streams_last_7d, ending on the newest day every platform has reported) compared with the 7
-- days before them, in percent: (last 7 days ÷ previous 7 days − 1) × 100. Empty when the data
-- does not reach back 14 days or the previous 7 days had no streams.
WITH series AS (
    SELECT artist, platform, max(date) AS last_day, min(date) AS first_day FROM kpi_streams_daily GROUP BY ALL
),
live AS (  -- platforms that reported in the 7 days before the scope's newest day
    SELECT * FROM (SELECT *, max(last_day) OVER (PARTITION BY artist) AS newest FROM series)
    WHERE last_day > newest - 7
),
ends AS (
    SELECT artist, platform, min(last_day) OVER (PARTITION BY artist) AS end_day,
           min(first_day) OVER (PARTITION BY artist) AS first_day
    FROM live
),
windows AS (
    SELECT e.artist, any_value(e.end_day) AS end_day, any_value(e.first_day) AS first_day,
           sum(d.streams) FILTER (WHERE d.date > e.end_day - 7) AS this_week,
           sum(d.streams) FILTER (WHERE d.date <= e.end_day - 7) AS last_week
    FROM kpi_streams_daily d
    JOIN ends e ON e.artist IS NOT DISTINCT FROM d.artist AND e.platform = d.platform
    WHERE d.date BETWEEN e.end_day - 13 AND e.end_day
    GROUP BY e.artist
)
SELECT CASE WHEN first_day <= end_day - 13 AND last_week > 0 THEN (this_week / last_week - 1) * 100 END AS value,
       'last 7 days vs the 7 before' AS period, end_day AS as_of, artist,
       CASE WHEN first_day > end_day - 13 THEN 'no data: fewer than 14 days of streams'
            WHEN coalesce(last_week, 0) = 0 THEN 'no data: no streams in the previous 7 days' END AS breakdown
FROM windows
