-- input: kpi_ads
-- definition: Ad delivery per platform × campaign × ad set, counting each day once. Exports
-- report an ad set over windows of different lengths (one row per day, or one row for its
-- whole life up to the export day); windows of different lengths overlap, so for each ad set
-- only the rows of one window length are used: the length whose rows add up to the most
-- impressions (the most complete coverage). `spend_usd` is null for accounts not billed in USD.
WITH windows AS (
    SELECT platform, campaign_id, adset_id, date_diff('day', date_start, date_stop) AS length_days,
           sum(spend_usd) AS spend_usd, sum(spend) AS spend, any_value(currency) AS currency,
           sum(impressions)::BIGINT AS impressions, sum(clicks)::BIGINT AS clicks,
           min(date_start) AS date_start, max(date_stop) AS date_stop
    FROM fct_ad_performance
    GROUP BY ALL
)
SELECT platform, campaign_id, adset_id,
       arg_max(length_days, (coalesce(impressions, 0), -length_days)) AS length_days,
       arg_max(spend_usd, (coalesce(impressions, 0), -length_days)) AS spend_usd,
       arg_max(spend, (coalesce(impressions, 0), -length_days)) AS spend,
       arg_max(currency, (coalesce(impressions, 0), -length_days)) AS currency,
       arg_max(impressions, (coalesce(impressions, 0), -length_days)) AS impressions,
       arg_max(clicks, (coalesce(impressions, 0), -length_days)) AS clicks,
       arg_max(date_start, (coalesce(impressions, 0), -length_days)) AS date_start,
       arg_max(date_stop, (coalesce(impressions, 0), -length_days)) AS date_stop
FROM windows
GROUP BY ALL
