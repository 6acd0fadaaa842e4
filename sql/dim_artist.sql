-- Artists and their aliases. Every spelling of a name that any source uses (royalty lines,
-- direct sales, streams, audience, social accounts, link pages) is an alias; spellings with the same
-- artist_key are one artist. The canonical name is the distributor's spelling when there is one
-- (it is what the artist registered), else the artist dashboard's, else the social handle; among
-- equals the most used spelling, then the first alphabetically.
CREATE OR REPLACE VIEW dim_artist_alias AS
WITH names AS (
    SELECT artist AS alias, 1 AS priority, 'fct_royalties' AS seen_in, count(*) AS n FROM fct_royalties WHERE artist IS NOT NULL GROUP BY ALL
    UNION ALL SELECT artist, 2, 'fct_streams_daily', count(*) FROM fct_streams_daily WHERE artist IS NOT NULL GROUP BY ALL
    UNION ALL SELECT artist, 2, 'fct_audience_daily', count(*) FROM fct_audience_daily WHERE artist IS NOT NULL GROUP BY ALL
    UNION ALL SELECT artist, 2, 'fct_streams_totals', count(*) FROM fct_streams_totals WHERE artist IS NOT NULL GROUP BY ALL
    UNION ALL SELECT artist, 2, 'fct_sales', count(*) FROM fct_sales WHERE artist IS NOT NULL GROUP BY ALL
    UNION ALL SELECT account, 3, 'fct_social_daily', count(*) FROM fct_social_daily WHERE account IS NOT NULL GROUP BY ALL
    UNION ALL SELECT account, 3, 'fct_link_clicks_daily', count(*) FROM fct_link_clicks_daily WHERE account IS NOT NULL GROUP BY ALL
),
spellings AS (
    SELECT alias, artist_key(alias) AS artist_key, min(priority) AS priority, sum(n) AS n,
           list(DISTINCT seen_in ORDER BY seen_in) AS seen_in
    FROM names WHERE artist_key(alias) IS NOT NULL GROUP BY alias
),
canonical AS (
    SELECT artist_key, first(alias ORDER BY priority, n DESC, alias) AS artist FROM spellings GROUP BY artist_key
)
SELECT s.alias, s.artist_key, c.artist, s.seen_in
FROM spellings s JOIN canonical c USING (artist_key);

CREATE OR REPLACE VIEW dim_artist AS
SELECT artist_key, any_value(artist) AS artist, list(alias ORDER BY alias) AS aliases,
       list_sort(list_distinct(flatten(list(seen_in)))) AS seen_in
FROM dim_artist_alias GROUP BY artist_key;
