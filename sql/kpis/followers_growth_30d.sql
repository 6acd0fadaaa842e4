-- kpi: followers_growth_30d
-- topic: audience
-- unit: followers
-- period: last 30 days
-- definition: Followers gained in the last 30 days, added up over every platform that counts
-- followers: streaming dashboards (`fct_audience_daily`) and social accounts (`fct_social_daily`,
-- accounts matched to artists through their aliases, so `zone.a0` counts for ZONE A0). For each
-- platform and artist: followers on its newest day minus followers 30 days before that day (or
-- on the closest earlier day with a count, up to 60 days earlier). Social accounts that report
-- follows per day but no follower count (YouTube, Instagram, Facebook, X) count the follows of
-- their newest 30 days: follows minus unfollows (YouTube: subscribers gained minus lost) where
-- the platform reports both, else follows. A series shorter than 30 days, or silent for 7 days
-- before the newest day of the data, is left out. Counts can fall: the value can be negative.
WITH counts AS (  -- the last 97 days of each table: 7 of silence + 30 + up to 60 back to a count
    SELECT date, platform, artist AS name, max(followers) AS followers
    FROM fct_audience_daily
    WHERE followers IS NOT NULL AND artist IS NOT NULL AND date >= (SELECT max(date) FROM fct_audience_daily) - 97
    GROUP BY ALL
    UNION ALL
    SELECT date, platform, account, max(followers)
    FROM fct_social_daily
    WHERE followers IS NOT NULL AND account IS NOT NULL AND date >= (SELECT max(date) FROM fct_social_daily) - 97
    GROUP BY ALL
),
series AS (
    SELECT platform, name, max(date) AS end_day, arg_max(followers, date) AS end_followers
    FROM counts GROUP BY ALL
),
live AS (
    SELECT *, end_day - 30 AS start_day FROM series
    WHERE end_day > (SELECT max(end_day) FROM series) - 7
),
flows AS (  -- follows per day of social accounts without a follower count
    SELECT date, platform, account AS name,
           max(coalesce(followers_change, subscribers, new_follows - coalesce(unfollows, 0))) AS gained
    FROM fct_social_daily
    WHERE account IS NOT NULL AND followers IS NULL
      AND coalesce(followers_change, subscribers, new_follows) IS NOT NULL
      AND date >= (SELECT max(date) FROM fct_social_daily) - 97
      AND (platform, account) NOT IN (SELECT (platform, name) FROM counts)
    GROUP BY ALL
),
flow_series AS (
    SELECT platform, name, min(date) AS first_day, max(date) AS end_day FROM flows GROUP BY ALL
),
growth AS (  -- the count on the start day, or on the closest earlier day with a count
    SELECT l.platform, coalesce(a.artist, l.name) AS artist, l.end_day, l.end_followers - c.followers AS gained
    FROM live l
    ASOF JOIN counts c ON c.platform = l.platform AND c.name = l.name AND c.date <= l.start_day
    LEFT JOIN kpi_artists a ON a.alias = l.name
    UNION ALL
    SELECT s.platform, coalesce(a.artist, s.name), s.end_day, sum(f.gained)
    FROM flow_series s
    JOIN flows f ON f.platform = s.platform AND f.name = s.name AND f.date > s.end_day - 30
    LEFT JOIN kpi_artists a ON a.alias = s.name
    WHERE s.first_day <= s.end_day - 29
      AND s.end_day > (SELECT max(end_day) FROM (SELECT end_day FROM series UNION ALL SELECT end_day FROM flow_series)) - 7
    GROUP BY ALL
)
SELECT sum(gained)::DOUBLE AS value, 'last 30 days' AS period, max(end_day) AS as_of,
       NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM growth
HAVING count(*) > 0
UNION ALL
SELECT sum(gained), 'last 30 days', max(end_day), artist, NULL
FROM growth
WHERE artist IS NOT NULL
GROUP BY artist
