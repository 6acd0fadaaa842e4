-- Daily streams of the whole account per platform: one row per date × platform, for totals
-- across artists ("how many streams did we have on Spotify yesterday").
--
-- Built from v_streams_daily's totals (track IS NULL). When distributors report the account
-- that day (artist IS NULL), the account's number is the sum over distributors: each reports
-- its own catalogue (see v_streams_daily), and `source` lists them. Otherwise the account's
-- number is the sum of the per-artist rows (artist dashboards), and `artists` says how many
-- artists it covers. Distributor rows and artist rows are never added together.
CREATE OR REPLACE VIEW v_streams_account_daily AS
WITH totals AS (
    SELECT * FROM v_streams_daily WHERE track IS NULL
),
account AS (
    SELECT date, platform, string_agg(source, ',' ORDER BY source) AS source,
           sum(streams)::BIGINT AS streams,
           -- listeners of two catalogues may be the same people: only one distributor's are kept
           CASE WHEN count(*) = 1 THEN max(listeners) END::BIGINT AS listeners, NULL::BIGINT AS artists
    FROM totals WHERE artist IS NULL
    GROUP BY date, platform
),
per_artist AS (
    SELECT date, platform, string_agg(DISTINCT source, ',' ORDER BY source) AS source,
           sum(streams)::BIGINT AS streams, NULL::BIGINT AS listeners, count(*) AS artists
    FROM totals WHERE artist IS NOT NULL
    GROUP BY date, platform
)
SELECT * FROM account
UNION ALL
SELECT p.* FROM per_artist p
WHERE NOT EXISTS (SELECT 1 FROM account a WHERE a.date = p.date AND a.platform = p.platform);
