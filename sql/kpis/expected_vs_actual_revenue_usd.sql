-- kpi: expected_vs_actual_revenue_usd
-- topic: revenue
-- unit: USD
-- period: per sale month
-- definition: Did a store pay what your streams suggest? For each month (`period`) and platform
-- (`breakdown`): actual = `earnings_usd` of the `fct_royalties` lines with that sale month and
-- platform; expected = the month's streams of the whole account on that platform
-- (`v_streams_account_daily`) × the platform's revenue per stream over the 12 sale months before
-- it (streaming lines only, as in revenue_per_stream_usd_by_store). The value is actual −
-- expected: below zero, the store paid less than its own recent rate for those streams. Only
-- months with streams for every day of the month, a rate from earlier months and at least one
-- royalty line are compared; the newest months can look low while stores are still reporting
-- them. The row without `breakdown` adds up the platforms of the newest compared month. For the
-- whole account only (daily streams per artist do not cover every platform).
WITH streams AS (
    SELECT date_trunc('month', date)::DATE AS month, platform, sum(streams) AS streams
    FROM kpi_streams_daily
    WHERE artist IS NULL
    GROUP BY 1, 2
    HAVING count(DISTINCT date) = day(last_day(date_trunc('month', date)::DATE))
),
royalties AS (
    SELECT sale_month AS month, platform, sum(earnings_usd) AS earnings_usd,
           sum(stream_earnings_usd) AS stream_earnings_usd, sum(stream_quantity) AS stream_quantity,
           max(last_reporting_date) AS as_of
    FROM kpi_royalties
    GROUP BY ALL
),
rates AS (
    SELECT s.month, s.platform, sum(r.stream_earnings_usd) / nullif(sum(r.stream_quantity), 0) AS usd_per_stream
    FROM streams s
    JOIN royalties r ON r.platform = s.platform
                    AND r.month >= s.month - INTERVAL 12 MONTH AND r.month < s.month
    GROUP BY ALL
),
compared AS (
    SELECT s.month, s.platform, r.earnings_usd - s.streams * t.usd_per_stream AS difference,
           (SELECT max(as_of) FROM royalties) AS as_of
    FROM streams s
    JOIN rates t ON t.month = s.month AND t.platform = s.platform
    JOIN royalties r ON r.month = s.month AND r.platform = s.platform
    WHERE t.usd_per_stream IS NOT NULL
)
SELECT difference AS value, strftime(month, '%Y-%m') AS period, as_of, NULL::VARCHAR AS artist,
       platform AS breakdown
FROM compared
UNION ALL
SELECT sum(difference), strftime(month, '%Y-%m'), max(as_of), NULL, NULL
FROM compared
WHERE month = (SELECT max(month) FROM compared)
GROUP BY month
