-- kpi: link_ctr
-- topic: links
-- unit: %
-- period: last 28 days
-- definition: Click-through rate of your link-in-bio pages: link clicks ÷ page views × 100
-- (`fct_link_clicks_daily`, Linktree, ...) over the 28 days up to the newest day every page has
-- reported (pages silent for the 7 days before that are left out). All pages together, and per
-- artist for pages whose account name matches an artist's alias.
WITH daily AS (
    SELECT date, platform, account, max(views) AS views, max(clicks) AS clicks
    FROM fct_link_clicks_daily
    WHERE date > (SELECT max(date) FROM fct_link_clicks_daily) - 35
    GROUP BY ALL
),
series AS (
    SELECT d.platform, d.account, a.artist, max(d.date) AS last_day
    FROM daily d LEFT JOIN kpi_artists a ON a.alias = d.account
    GROUP BY ALL
),
live AS (SELECT * FROM series WHERE last_day > (SELECT max(last_day) FROM series) - 7),
scopes AS (
    SELECT NULL::VARCHAR AS scope, platform, account, (SELECT min(last_day) FROM live) AS end_day FROM live
    UNION ALL
    SELECT artist, platform, account, min(last_day) OVER (PARTITION BY artist) FROM live WHERE artist IS NOT NULL
)
SELECT (sum(d.clicks) / nullif(sum(d.views), 0) * 100)::DOUBLE AS value, 'last 28 days' AS period,
       any_value(s.end_day) AS as_of, s.scope AS artist,
       CASE WHEN coalesce(sum(d.views), 0) = 0 THEN 'no data: no page views in the last 28 days' END AS breakdown
FROM daily d
JOIN scopes s ON s.platform = d.platform AND s.account IS NOT DISTINCT FROM d.account
WHERE d.date BETWEEN s.end_day - 27 AND s.end_day
GROUP BY s.scope
