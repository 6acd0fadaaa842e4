-- kpi: streams_total
-- topic: streams
-- unit: streams
-- period: all time
-- definition: Every stream counted in the daily data, all platforms, all time. For all artists
-- it adds up the account's days (`v_streams_account_daily`: the distributors' account totals for
-- a day and platform, each distributor its own catalogue, else the sum of the artist dashboards
-- that day, never both), so streams that arrive through several sources count once. Per artist it adds up that artist's dashboard
-- totals (`v_streams_daily` rows with the artist and no track). Only days some source reported
-- count: a platform with no daily data adds nothing (royalty statements are in revenue_*).
SELECT sum(streams)::DOUBLE AS value, 'all time' AS period, max(date) AS as_of,
       artist, NULL::VARCHAR AS breakdown
FROM kpi_streams_daily
GROUP BY artist
