-- kpi: listeners_last_day
-- topic: streams
-- unit: listeners
-- period: last day
-- definition: Listeners on the newest day with listener numbers (`as_of`), added up over the
-- platforms that give them (artist dashboards; distributors do not). Per artist: the dashboard's
-- listeners that day; for all artists: the account's number when a source gives one, else the
-- artists' sum (a person listening to two artists, or on two platforms, counts twice). The day
-- is the newest that every platform with listener numbers has reported (as in streams_last_7d).
WITH l AS (SELECT artist, platform, date, listeners FROM kpi_streams_daily WHERE listeners IS NOT NULL),
series AS (SELECT artist, platform, max(date) AS last_day FROM l GROUP BY ALL),
live AS (  -- platforms that reported listeners in the 7 days before the scope's newest day
    SELECT * FROM (SELECT *, max(last_day) OVER (PARTITION BY artist) AS newest FROM series)
    WHERE last_day > newest - 7
),
ends AS (SELECT artist, platform, min(last_day) OVER (PARTITION BY artist) AS end_day FROM live)
SELECT sum(l.listeners)::DOUBLE AS value, 'last day' AS period, any_value(e.end_day) AS as_of,
       e.artist, NULL::VARCHAR AS breakdown
FROM l
JOIN ends e ON e.artist IS NOT DISTINCT FROM l.artist AND e.platform = l.platform
WHERE l.date = e.end_day
GROUP BY e.artist
