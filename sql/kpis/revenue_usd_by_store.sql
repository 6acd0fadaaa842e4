-- kpi: revenue_usd_by_store
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Revenue per store: royalties as the distributor names the store (`Spotify`,
-- `YouTube (Ads)`, ...: the sum of `earnings_usd` of the `fct_royalties` lines of each store) and
-- direct sales per platform (`Bandcamp`: the net USD of its `fct_sales` lines, refunds and
-- reversals subtracted), all time. A row per store (`breakdown`), for all artists and per artist.
WITH money AS (
    SELECT store, artist, earnings_usd AS usd, last_reporting_date AS as_of FROM kpi_royalties
    UNION ALL
    SELECT store, artist, net_usd, last_date FROM kpi_sales WHERE net_usd IS NOT NULL
)
SELECT sum(usd) AS value, 'all time' AS period, max(as_of) AS as_of,
       NULL::VARCHAR AS artist, store AS breakdown
FROM money
GROUP BY store
UNION ALL
SELECT sum(usd), 'all time', max(as_of), artist, store
FROM money
WHERE artist IS NOT NULL
GROUP BY artist, store
