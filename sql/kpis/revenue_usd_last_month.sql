-- kpi: revenue_usd_last_month
-- topic: revenue
-- unit: USD
-- period: newest reporting month
-- definition: What you were paid in the newest month: the sum of `earnings_usd` of the
-- `fct_royalties` lines whose reporting date falls in the calendar month of the newest line, plus
-- the net USD of the direct sales (`fct_sales`, refunds and reversals subtracted) made in that
-- month (`period` names it, `as_of` is the newest reporting or sale date, so a month still in
-- progress shows as such). This is money reported last month, not streams that happened last
-- month: stores pay one to three months late (see royalty_payment_delay_months), so when direct
-- sales are newer than the statements the month holds the sales alone. An artist with no lines
-- that month shows 0.
WITH money AS (
    SELECT reporting_month AS month, artist, earnings_usd AS usd, last_reporting_date AS as_of FROM kpi_royalties
    UNION ALL
    SELECT month, artist, net_usd, last_date FROM kpi_sales WHERE net_usd IS NOT NULL
),
newest AS (SELECT max(month) AS month, max(as_of) AS as_of FROM money)
SELECT coalesce(sum(r.usd) FILTER (WHERE r.month = n.month), 0) AS value,
       strftime(n.month, '%Y-%m') AS period, n.as_of, NULL::VARCHAR AS artist, NULL::VARCHAR AS breakdown
FROM money r, newest n
GROUP BY n.month, n.as_of
UNION ALL
SELECT coalesce(sum(r.usd) FILTER (WHERE r.month = n.month), 0),
       strftime(n.month, '%Y-%m'), n.as_of, r.artist, NULL
FROM money r, newest n
WHERE r.artist IS NOT NULL
GROUP BY r.artist, n.month, n.as_of
