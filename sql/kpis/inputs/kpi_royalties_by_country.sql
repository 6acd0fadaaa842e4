-- input: kpi_royalties_by_country
-- definition: `fct_royalties` summed per artist (canonical) × country of sale (ISO 3166
-- alpha-2; DistroKid's `OU` = outside the US; `ZZ` when a line has none): units, streaming units
-- (downloads left out as in kpi_royalties) and USD.
WITH lines AS (
    SELECT artist, coalesce(nullif(trim(country), ''), 'ZZ') AS country,
           sum(quantity) AS quantity,
           sum(quantity) FILTER (WHERE NOT (coalesce(item_type, '') = 'Album' OR platform = 'itunes'
                                            OR lower(store) LIKE '%download%')) AS stream_quantity,
           sum(earnings_usd) AS earnings_usd,
           max(reporting_date) AS last_reporting_date
    FROM fct_royalties
    GROUP BY ALL
)
SELECT coalesce(a.artist, l.artist) AS artist, l.country,
       sum(l.quantity)::BIGINT AS quantity, sum(l.stream_quantity)::BIGINT AS stream_quantity,
       sum(l.earnings_usd) AS earnings_usd, max(l.last_reporting_date) AS last_reporting_date
FROM lines l
LEFT JOIN kpi_artists a ON a.alias = l.artist
GROUP BY ALL
