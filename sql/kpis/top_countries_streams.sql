-- kpi: top_countries_streams
-- topic: streams
-- unit: streams
-- period: all time (royalty statements)
-- definition: The 10 countries with the most streams, all time, all stores. The daily stream
-- numbers carry no country, so this counts the streaming units of the royalty statements
-- (`fct_royalties` `quantity`, downloads left out) per country of sale; they lag the daily
-- numbers by one to three months. `breakdown` is the ISO 3166 alpha-2 code (`OU` = DistroKid's
-- "outside the US", `ZZ` = no country given).
WITH scopes AS (
    SELECT NULL::VARCHAR AS artist, country, sum(stream_quantity) AS streams, max(last_reporting_date) AS as_of
    FROM kpi_royalties_by_country GROUP BY country
    UNION ALL
    SELECT artist, country, sum(stream_quantity), max(last_reporting_date)
    FROM kpi_royalties_by_country WHERE artist IS NOT NULL GROUP BY artist, country
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY artist ORDER BY streams DESC, country) AS rank,
           max(as_of) OVER (PARTITION BY artist) AS scope_as_of
    FROM scopes WHERE streams > 0
)
SELECT streams::DOUBLE AS value, 'all time (royalty statements)' AS period, scope_as_of AS as_of, artist,
       country AS breakdown
FROM ranked
WHERE rank <= 10
