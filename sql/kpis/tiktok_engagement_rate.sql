-- kpi: tiktok_engagement_rate
-- topic: social
-- unit: %
-- period: last 28 days
-- definition: How much people interact with your TikToks: (likes + comments + shares) ÷ views ×
-- 100 over the 28 days up to the newest day every TikTok account has reported
-- (`fct_social_daily`, platform `tiktok`; accounts silent for 7 days before that are left out),
-- all accounts together and per artist. Comments can be negative on a day (TikTok's
-- corrections); they are added as reported.
WITH daily AS (
    SELECT date, account, max(views) AS views, max(likes) AS likes, max(comments) AS comments, max(shares) AS shares
    FROM fct_social_daily
    WHERE platform = 'tiktok' AND date > (SELECT max(date) FROM fct_social_daily WHERE platform = 'tiktok') - 35
    GROUP BY ALL
),
series AS (
    SELECT d.account, coalesce(a.artist, d.account) AS artist, max(d.date) AS last_day
    FROM daily d LEFT JOIN kpi_artists a ON a.alias = d.account
    GROUP BY ALL
),
live AS (SELECT * FROM series WHERE last_day > (SELECT max(last_day) FROM series) - 7),
scopes AS (
    SELECT NULL::VARCHAR AS scope, account, (SELECT min(last_day) FROM live) AS end_day FROM live
    UNION ALL
    SELECT artist, account, min(last_day) OVER (PARTITION BY artist) FROM live WHERE artist IS NOT NULL
)
SELECT (sum(coalesce(d.likes, 0) + coalesce(d.comments, 0) + coalesce(d.shares, 0)) / nullif(sum(d.views), 0) * 100)::DOUBLE AS value,
       'last 28 days' AS period, any_value(s.end_day) AS as_of, s.scope AS artist,
       CASE WHEN coalesce(sum(d.views), 0) = 0 THEN 'no data: no views in the last 28 days' END AS breakdown
FROM daily d
JOIN scopes s ON s.account IS NOT DISTINCT FROM d.account
WHERE d.date BETWEEN s.end_day - 27 AND s.end_day
GROUP BY s.scope
