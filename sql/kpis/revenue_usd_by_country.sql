-- kpi: revenue_usd_by_country
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Revenue per country: the sum of `earnings_usd` of the `fct_royalties` lines of each
-- country of sale plus the net USD of the direct sales (`fct_sales`) to buyers in it, all time.
-- `breakdown` is the ISO 3166 alpha-2 code (`dim_territory` has the names); DistroKid's `OU` is
-- "outside the US" (lines it does not split by country) and `ZZ` a line without a country. For
-- all artists and per artist.
WITH money AS (
    SELECT artist, country, earnings_usd AS usd, last_reporting_date AS as_of FROM kpi_royalties_by_country
    UNION ALL
    SELECT artist, country, net_usd, last_date FROM kpi_sales WHERE net_usd IS NOT NULL
)
SELECT sum(usd) AS value, 'all time' AS period, max(as_of) AS as_of,
       NULL::VARCHAR AS artist, country AS breakdown
FROM money
GROUP BY country
UNION ALL
SELECT sum(usd), 'all time', max(as_of), artist, country
FROM money
WHERE artist IS NOT NULL
GROUP BY artist, country
