-- input: kpi_royalties_by_track
-- definition: `fct_royalties` summed per artist (canonical) × recording: the ISRC, or the
-- title for lines without one (album lines). `title` is the spelling used on the most lines.
-- Units, streaming units (downloads left out as in kpi_royalties) and USD.
WITH lines AS (
    SELECT artist, nullif(upper(trim(isrc)), '') AS isrc, title,
           count(*) AS lines,
           sum(quantity) AS quantity,
           sum(quantity) FILTER (WHERE NOT (coalesce(item_type, '') = 'Album' OR platform = 'itunes'
                                            OR lower(store) LIKE '%download%')) AS stream_quantity,
           sum(earnings_usd) AS earnings_usd,
           max(reporting_date) AS last_reporting_date
    FROM fct_royalties
    GROUP BY ALL
)
SELECT coalesce(a.artist, l.artist) AS artist, l.isrc,
       arg_max(l.title, l.lines) AS title,
       sum(l.quantity)::BIGINT AS quantity, sum(l.stream_quantity)::BIGINT AS stream_quantity,
       sum(l.earnings_usd) AS earnings_usd, max(l.last_reporting_date) AS last_reporting_date
FROM lines l
LEFT JOIN kpi_artists a ON a.alias = l.artist
GROUP BY coalesce(a.artist, l.artist), l.isrc, CASE WHEN l.isrc IS NULL THEN l.title END
