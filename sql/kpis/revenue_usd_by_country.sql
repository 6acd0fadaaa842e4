-- kpi: revenue_usd_by_country
-- topic: revenue
-- unit: USD
-- period: all time
-- definition: Royalties per country of sale: the sum of `earnings_usd` of the `fct_royalties`
-- lines of each country, all time. `breakdown` is the ISO 3166 alpha-2 code (`dim_territory`
-- has the names); DistroKid's `OU` is "outside the US" (lines it does not split by country) and
-- `ZZ` a line without a country. For all artists and per artist.
SELECT sum(earnings_usd) AS value, 'all time' AS period, max(last_reporting_date) AS as_of,
       NULL::VARCHAR AS artist, country AS breakdown
FROM kpi_royalties_by_country
GROUP BY country
UNION ALL
SELECT sum(earnings_usd), 'all time', max(last_reporting_date), artist, country
FROM kpi_royalties_by_country
WHERE artist IS NOT NULL
GROUP BY artist, country
