-- kpi: revenue_per_stream_usd_by_store
-- topic: revenue
-- unit: USD per stream
-- period: all time
-- definition: What one stream pays on each store: `earnings_usd` divided by `quantity` over the
-- streaming lines of `fct_royalties` (downloads left out: album lines, iTunes, stores named
-- "... Downloads"), all time, per store as the distributor names it. Stores whose lines count no
-- units are left out. For all artists and per artist.
SELECT sum(stream_earnings_usd) / sum(stream_quantity) AS value, 'all time' AS period,
       max(last_reporting_date) AS as_of, NULL::VARCHAR AS artist, store AS breakdown
FROM kpi_royalties
GROUP BY store
HAVING sum(stream_quantity) > 0
UNION ALL
SELECT sum(stream_earnings_usd) / sum(stream_quantity), 'all time', max(last_reporting_date), artist, store
FROM kpi_royalties
WHERE artist IS NOT NULL
GROUP BY artist, store
HAVING sum(stream_quantity) > 0
