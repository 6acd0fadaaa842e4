-- kpi: social_views_last_7d
-- topic: social
-- unit: views
-- period: last 7 days
-- definition: Views of your videos and posts on social platforms (`fct_social_daily.views`: TikTok,
-- Instagram, ...) in the 7 days up to the newest day every account has reported (accounts silent
-- for the 7 days before the newest day of the data are left out), all accounts together and per
-- artist (accounts are matched to artists through their aliases).
WITH daily AS (
    SELECT date, platform, account, max(views) AS views
    FROM fct_social_daily
    WHERE date > (SELECT max(date) FROM fct_social_daily) - 14
    GROUP BY ALL
),
series AS (
    SELECT d.platform, d.account, coalesce(a.artist, d.account) AS artist, max(d.date) AS last_day
    FROM daily d LEFT JOIN kpi_artists a ON a.alias = d.account
    GROUP BY ALL
),
live AS (SELECT * FROM series WHERE last_day > (SELECT max(last_day) FROM series) - 7),
scopes AS (
    SELECT NULL::VARCHAR AS scope, platform, account, (SELECT min(last_day) FROM live) AS end_day FROM live
    UNION ALL
    SELECT artist, platform, account, min(last_day) OVER (PARTITION BY artist) FROM live WHERE artist IS NOT NULL
)
SELECT sum(d.views)::DOUBLE AS value, 'last 7 days' AS period, any_value(s.end_day) AS as_of, s.scope AS artist,
       NULL::VARCHAR AS breakdown
FROM daily d
JOIN scopes s ON s.platform = d.platform AND s.account IS NOT DISTINCT FROM d.account
WHERE d.date BETWEEN s.end_day - 6 AND s.end_day
GROUP BY s.scope
