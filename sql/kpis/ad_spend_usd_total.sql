-- kpi: ad_spend_usd_total
-- topic: ads
-- unit: USD
-- period: all time
-- definition: Money spent on ads, all campaigns, all time: `spend_usd` of `fct_ad_performance`,
-- each ad set's days counted once (see the input kpi_ads: of overlapping daily and lifetime
-- rows, one kind is used). Ad accounts billed in another currency are left out rather than
-- converted at a guessed rate. `as_of` is the last day of the newest reporting window. Ads are
-- not tied to an artist, so there are no per-artist rows.
SELECT sum(spend_usd) AS value, 'all time' AS period, max(date_stop) AS as_of, NULL::VARCHAR AS artist,
       CASE WHEN count(spend_usd) = 0 THEN 'no data: no ad spend in USD' END AS breakdown
FROM kpi_ads
HAVING count(*) > 0
