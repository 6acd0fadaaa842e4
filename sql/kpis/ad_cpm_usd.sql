-- kpi: ad_cpm_usd
-- topic: ads
-- unit: USD per 1000 impressions
-- period: all time
-- definition: What 1,000 ad impressions cost on average: total `spend_usd` ÷ total impressions ×
-- 1000 over the ad sets billed in USD (`fct_ad_performance` through kpi_ads, each day counted
-- once), all time. No per-artist rows.
SELECT sum(spend_usd) / nullif(sum(impressions) FILTER (WHERE spend_usd IS NOT NULL), 0) * 1000 AS value,
       'all time' AS period, max(date_stop) AS as_of, NULL::VARCHAR AS artist,
       CASE WHEN coalesce(sum(impressions) FILTER (WHERE spend_usd IS NOT NULL), 0) = 0
            THEN 'no data: no impressions of ads billed in USD' END AS breakdown
FROM kpi_ads
HAVING count(*) > 0
