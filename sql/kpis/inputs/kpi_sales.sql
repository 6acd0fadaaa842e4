-- input: kpi_sales
-- definition: `fct_sales` (direct sales to fans: Bandcamp) summed per month of sale × platform ×
-- artist (canonical name) × country (`ZZ` when a line has none) × item (ISRC when given, else the
-- item name): sale lines, units and net USD, refunds and reversals included (they are negative).
-- Only USD sales carry `net_usd`: sales in other currencies count in `lines` but not in the money
-- (no exchange rate is guessed). `store` is how revenue KPIs name the platform (`Bandcamp`).
WITH lines AS (
    SELECT date_trunc('month', date)::DATE AS month, platform, artist,
           coalesce(nullif(trim(country), ''), 'ZZ') AS country,
           nullif(upper(trim(isrc)), '') AS isrc, item_name,
           count(*) AS lines, sum(quantity) AS quantity, sum(net_usd) AS net_usd, max(date) AS last_date
    FROM fct_sales
    GROUP BY ALL
)
SELECT l.month, l.platform,
       CASE l.platform WHEN 'bandcamp' THEN 'Bandcamp' ELSE l.platform END AS store,
       coalesce(a.artist, l.artist) AS artist, l.country, l.isrc, l.item_name,
       sum(l.lines)::BIGINT AS lines, sum(l.quantity)::BIGINT AS quantity, sum(l.net_usd) AS net_usd,
       max(l.last_date) AS last_date
FROM lines l
LEFT JOIN kpi_artists a ON a.alias = l.artist
GROUP BY ALL
