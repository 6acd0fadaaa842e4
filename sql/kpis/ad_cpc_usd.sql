-- kpi: ad_cpc_usd
-- topic: ads
-- unit: USD per click
-- period: all time
-- definition: What one ad click costs on average: total `spend_usd` ÷ total clicks over the ad
-- sets billed in USD (`fct_ad_performance` through kpi_ads, each day counted once), all time.
-- No per-artist rows.
SELECT sum(spend_usd) / nullif(sum(clicks) FILTER (WHERE spend_usd IS NOT NULL), 0) AS value,
       'all time' AS period, max(date_stop) AS as_of, NULL::VARCHAR AS artist,
       CASE WHEN coalesce(sum(clicks) FILTER (WHERE spend_usd IS NOT NULL), 0) = 0
            THEN 'no data: no clicks on ads billed in USD' END AS breakdown
FROM kpi_ads
HAVING count(*) > 0
