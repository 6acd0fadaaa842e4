-- kpi: streams_growth_pct_mom
-- topic: streams
-- unit: %
-- period: last 28 days vs the 28 before
-- definition: Month-over-month growth of streams: streams in the last 28 days (four whole weeks,
-- so both periods hold the same weekdays; ending on the newest day every platform has reported,
-- as in streams_last_7d) compared with the 28 days before them, in percent: (last 28 days ÷
-- previous 28 days − 1) × 100. Empty when the data does not reach back 56 days or the previous
-- 28 days had no streams.
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
           sum(d.streams) FILTER (WHERE d.date > e.end_day - 28) AS this_month,
           sum(d.streams) FILTER (WHERE d.date <= e.end_day - 28) AS last_month
    FROM kpi_streams_daily d
    JOIN ends e ON e.artist IS NOT DISTINCT FROM d.artist AND e.platform = d.platform
    WHERE d.date BETWEEN e.end_day - 55 AND e.end_day
    GROUP BY e.artist
)
SELECT CASE WHEN first_day <= end_day - 55 AND last_month > 0 THEN (this_month / last_month - 1) * 100 END AS value,
       'last 28 days vs the 28 before' AS period, end_day AS as_of, artist,
       CASE WHEN first_day > end_day - 55 THEN 'no data: fewer than 56 days of streams'
            WHEN coalesce(last_month, 0) = 0 THEN 'no data: no streams in the previous 28 days' END AS breakdown
FROM windows
