-- kpi: revenue_usd_total
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Everything your royalty statements have paid: the sum of `earnings_usd` over every
-- line of `fct_royalties` (all stores, countries and sale months), as reported up to the newest
-- statement line (`as_of` = its reporting date). One row for all artists, one per artist.
SELECT sum(earnings_usd) AS value, 'all time' AS period, max(last_reporting_date) AS as_of,
       NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM kpi_royalties
HAVING count(*) > 0
UNION ALL
SELECT sum(earnings_usd), 'all time', max(last_reporting_date), artist, NULL
FROM kpi_royalties
WHERE artist IS NOT NULL
GROUP BY artist
