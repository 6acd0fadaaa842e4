-- kpi: revenue_usd_by_store
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Royalties per store, as the distributor names the store (`Spotify`,
-- `YouTube (Ads)`, ...): the sum of `earnings_usd` of the `fct_royalties` lines of each store,
-- all time. A row per store (`breakdown`), for all artists and per artist.
SELECT sum(earnings_usd) AS value, 'all time' AS period, max(last_reporting_date) AS as_of,
       NULL::VARCHAR AS artist, store AS breakdown
FROM kpi_royalties
GROUP BY store
UNION ALL
SELECT sum(earnings_usd), 'all time', max(last_reporting_date), artist, store
FROM kpi_royalties
WHERE artist IS NOT NULL
GROUP BY artist, store
