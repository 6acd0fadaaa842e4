-- kpi: revenue_usd_last_month
-- topic: revenue
-- unit: USD
-- period: newest reporting month
-- definition: What the royalty statements reported in their newest month: the sum of
-- `earnings_usd` of the `fct_royalties` lines whose reporting date falls in the calendar month
-- of the newest line (`period` names it, `as_of` is the newest reporting date, so a month still
-- in progress shows as such). This is money reported last month, not streams that happened last
-- month: stores pay one to three months late (see royalty_payment_delay_months). An artist with
-- no lines that month shows 0.
WITH newest AS (SELECT max(reporting_month) AS month, max(last_reporting_date) AS as_of FROM kpi_royalties)
SELECT coalesce(sum(r.earnings_usd) FILTER (WHERE r.reporting_month = n.month), 0) AS value,
       strftime(n.month, '%Y-%m') AS period, n.as_of, NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM kpi_royalties r, newest n
GROUP BY n.month, n.as_of
UNION ALL
SELECT coalesce(sum(r.earnings_usd) FILTER (WHERE r.reporting_month = n.month), 0),
       strftime(n.month, '%Y-%m'), n.as_of, r.artist, NULL
FROM kpi_royalties r, newest n
WHERE r.artist IS NOT NULL
GROUP BY r.artist, n.month, n.as_of
