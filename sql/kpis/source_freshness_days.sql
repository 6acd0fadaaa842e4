-- kpi: source_freshness_days
-- topic: lake
-- unit: days
-- period: newest export
-- definition: How far behind each source is: days from the newest export of the source (the
-- `observed_at` of its newest loaded file in `lake_files`) to the newest export of any source
-- (`as_of`). A row per source (`breakdown`); the row without breakdown is the stalest source's
-- lag. Measured against the newest export rather than today so that the numbers do not change
-- by themselves; `soundlake status` shows the age against today.
WITH sources AS (
    SELECT source, (max(observed_at) AT TIME ZONE 'UTC')::DATE AS newest  -- the UTC day, on every machine
    FROM lake_files
    WHERE status = 'loaded' AND source IS NOT NULL AND observed_at IS NOT NULL
    GROUP BY source
),
lag AS (SELECT source, newest, (SELECT max(newest) FROM sources) AS as_of FROM sources)
SELECT date_diff('day', newest, as_of)::DOUBLE AS value, 'newest export' AS period, as_of,
       NULL::VARCHAR AS artist, source AS breakdown
FROM lag
UNION ALL
SELECT max(date_diff('day', newest, as_of))::DOUBLE, 'newest export', max(as_of), NULL, NULL
FROM lag
HAVING count(*) > 0
