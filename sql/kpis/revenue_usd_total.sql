-- kpi: revenue_usd_total
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Everything your music has earned: the sum of `earnings_usd` over every line of
-- `fct_royalties` (royalty statements: all stores, countries and sale months) plus the net USD of
-- your direct sales in `fct_sales` (Bandcamp: what reached you after fees, refunds and reversals
-- subtracted; payouts are not sales; sales in other currencies than USD are left out), as
-- reported up to the newest line (`as_of` = the newest reporting or sale date). One row for all
-- artists, one per artist.
WITH money AS (
    SELECT artist, earnings_usd AS usd, last_reporting_date AS as_of FROM kpi_royalties
    UNION ALL
    SELECT artist, net_usd, last_date FROM kpi_sales WHERE net_usd IS NOT NULL
)
SELECT sum(usd) AS value, 'all time' AS period, max(as_of) AS as_of,
       NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM money
HAVING count(*) > 0
UNION ALL
SELECT sum(usd), 'all time', max(as_of), artist, NULL
FROM money
WHERE artist IS NOT NULL
GROUP BY artist
