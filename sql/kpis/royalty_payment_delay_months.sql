-- kpi: royalty_payment_delay_months
-- topic: revenue
-- unit: months
-- period: all time
-- definition: How late stores pay: for each `fct_royalties` line, the months from its sale month
-- (when the streams happened) to the month of its reporting date (when the distributor reported
-- it), e.g. streams in March reported in May = 2. The value is the median over statement lines
-- (half of the lines arrive within that many months); a row per store has that store's median.
-- Stores, not artists, decide the delay, so there are no per-artist rows.
WITH h AS (
    SELECT store, date_diff('month', sale_month, reporting_month) AS delay, sum(lines) AS n,
           max(last_reporting_date) AS as_of
    FROM kpi_royalties
    GROUP BY ALL
),
scopes AS (
    SELECT store, delay, n, as_of FROM h
    UNION ALL
    SELECT NULL, delay, sum(n), max(as_of) FROM h GROUP BY delay
),
cumulative AS (
    SELECT *, sum(n) OVER (PARTITION BY store ORDER BY delay) AS below, sum(n) OVER (PARTITION BY store) AS total
    FROM scopes
)
SELECT min(delay) FILTER (WHERE below * 2 >= total)::DOUBLE AS value, 'all time' AS period,
       max(as_of) AS as_of, NULL::VARCHAR AS artist, store AS breakdown
FROM cumulative
GROUP BY store
