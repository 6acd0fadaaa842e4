-- Tracks keyed by ISRC. Title and artist are the distributor's spelling when there is one (the
-- most used spelling among equals); `titles` keeps every spelling seen. `title_key` (see
-- _macros.sql) lets sources without ISRC join: dim_track_title maps (title_key, artist_key) to
-- the ISRCs with that title.
CREATE OR REPLACE VIEW dim_track AS
WITH named AS (
    SELECT upper(trim(isrc)) AS isrc, title, artist, 1 AS priority, source FROM fct_royalties
    WHERE nullif(trim(isrc), '') IS NOT NULL AND title IS NOT NULL
    UNION ALL
    SELECT upper(trim(isrc)), item, artist, 2, source FROM fct_streams_totals
    WHERE dimension = 'track' AND nullif(trim(isrc), '') IS NOT NULL AND item IS NOT NULL
    UNION ALL
    SELECT upper(trim(isrc)), track, artist, 3, source FROM fct_streams_daily
    WHERE nullif(trim(isrc), '') IS NOT NULL AND track IS NOT NULL
),
spellings AS (
    SELECT isrc, title, artist, min(priority) AS priority, count(*) AS n, list(DISTINCT source) AS sources
    FROM named GROUP BY isrc, title, artist
),
releases AS (
    SELECT upper(trim(isrc)) AS isrc, first(upc ORDER BY sale_month) AS upc, min(sale_month) AS first_sale_month
    FROM fct_royalties WHERE nullif(trim(isrc), '') IS NOT NULL GROUP BY 1
)
SELECT s.isrc,
       first(s.title ORDER BY s.priority, s.n DESC, s.title) AS title,
       title_key(first(s.title ORDER BY s.priority, s.n DESC, s.title)) AS title_key,
       first(s.artist ORDER BY s.priority, s.n DESC, s.artist) AS artist,
       artist_key(first(s.artist ORDER BY s.priority, s.n DESC, s.artist)) AS artist_key,
       list(DISTINCT s.title ORDER BY s.title) AS titles,
       any_value(r.upc) AS upc,
       any_value(r.first_sale_month) AS first_sale_month,
       list_sort(list_distinct(flatten(list(s.sources)))) AS sources
FROM spellings s LEFT JOIN releases r USING (isrc)
GROUP BY s.isrc;

CREATE OR REPLACE VIEW dim_track_title AS
SELECT DISTINCT title_key(t.title) AS title_key, d.artist_key, d.isrc
FROM dim_track d, unnest(d.titles) AS t(title)
WHERE title_key(t.title) IS NOT NULL;
