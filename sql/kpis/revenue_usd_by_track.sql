-- kpi: revenue_usd_by_track
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Revenue per recording: the sum of `earnings_usd` of the `fct_royalties` lines of
-- each ISRC plus the net USD of the direct sales (`fct_sales`) of it, all time; lines without an
-- ISRC (album downloads, Bandcamp albums and merch) count by their title. `breakdown` is the
-- title (the royalty lines' spelling when there are any), followed by the ISRC when two
-- recordings share a title; on the rows for all artists it starts with the artist ("Artist — Title").
WITH money AS (
    SELECT 1 AS kind, artist, isrc, title, earnings_usd AS usd, last_reporting_date AS as_of
    FROM kpi_royalties_by_track
    UNION ALL
    SELECT 2, artist, isrc, item_name, sum(net_usd), max(last_date)
    FROM kpi_sales
    WHERE net_usd IS NOT NULL
    GROUP BY artist, isrc, item_name
),
recordings AS (
    SELECT artist, isrc, first(title ORDER BY kind, usd DESC) AS title, sum(usd) AS earnings_usd,
           max(as_of) AS last_reporting_date
    FROM money
    GROUP BY artist, isrc, CASE WHEN isrc IS NULL THEN lower(title) END
),
t AS (
    SELECT artist, isrc, title, earnings_usd, last_reporting_date,
           count(*) OVER (PARTITION BY artist, lower(title)) > 1 AS ambiguous
    FROM recordings
),
labelled AS (
    SELECT *, coalesce(title, isrc, '?') || CASE WHEN ambiguous AND isrc IS NOT NULL THEN ' (' || isrc || ')' ELSE '' END AS label
    FROM t
)
SELECT earnings_usd AS value, 'all time' AS period, last_reporting_date AS as_of,
       NULL::VARCHAR AS artist, coalesce(artist || ' — ', '') || label AS breakdown
FROM labelled
UNION ALL
SELECT earnings_usd, 'all time', last_reporting_date, artist, label
FROM labelled
WHERE artist IS NOT NULL
