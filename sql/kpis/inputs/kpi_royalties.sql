-- input: kpi_royalties
-- definition: `fct_royalties` summed per reporting month × sale month × store × artist
-- (canonical name; null when the line names no artist): statement lines, units and USD, and
-- the same for streaming lines only (`stream_*`: not album or track downloads, i.e. not
-- `item_type` 'Album', not the `itunes` platform, not a store named '... Download...').
WITH lines AS (
    SELECT date_trunc('month', reporting_date)::DATE AS reporting_month, sale_month, store, platform, artist,
           count(*) AS lines,
           sum(quantity) AS quantity,
           sum(earnings_usd) AS earnings_usd,
           sum(quantity) FILTER (WHERE NOT is_download) AS stream_quantity,
           sum(earnings_usd) FILTER (WHERE NOT is_download) AS stream_earnings_usd,
           max(reporting_date) AS last_reporting_date
    FROM (SELECT *, (coalesce(item_type, '') = 'Album' OR platform = 'itunes'
                     OR lower(store) LIKE '%download%') AS is_download
          FROM fct_royalties)
    GROUP BY ALL
)
SELECT l.reporting_month, l.sale_month, l.store, l.platform, coalesce(a.artist, l.artist) AS artist,
       sum(l.lines)::BIGINT AS lines, sum(l.quantity)::BIGINT AS quantity, sum(l.earnings_usd) AS earnings_usd,
       sum(l.stream_quantity)::BIGINT AS stream_quantity, sum(l.stream_earnings_usd) AS stream_earnings_usd,
       max(l.last_reporting_date) AS last_reporting_date
FROM lines l
LEFT JOIN kpi_artists a ON a.alias = l.artist
GROUP BY ALL
