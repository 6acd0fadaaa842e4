-- kpi: revenue_usd_by_track
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Royalties per recording: the sum of `earnings_usd` of the `fct_royalties` lines of
-- each ISRC (lines without an ISRC, such as album downloads, by their title), all time.
-- `breakdown` is the title (the spelling on most lines), followed by the ISRC when two recordings
-- share a title; on the rows for all artists it starts with the artist ("Artist — Title").
WITH t AS (
    SELECT artist, isrc, title, earnings_usd, last_reporting_date,
           count(*) OVER (PARTITION BY artist, lower(title)) > 1 AS ambiguous
    FROM kpi_royalties_by_track
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
