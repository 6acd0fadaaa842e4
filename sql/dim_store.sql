-- Stores as distributors name them, with the conformed platform each maps to. A store missing
-- from the mapping (assets/model.py STORE_PLATFORMS) has platform 'unknown' and mapped = false:
-- it is reported by `soundlake status`, never put under another platform.
CREATE OR REPLACE VIEW dim_store AS
SELECT r.store,
       coalesce(m.platform, 'unknown') AS platform,
       m.platform IS NOT NULL AS mapped,
       count(*) AS lines,
       sum(r.quantity) AS quantity,
       sum(r.earnings_usd) AS earnings_usd,
       list(DISTINCT r.source ORDER BY r.source) AS sources
FROM fct_royalties r
LEFT JOIN ref_store_platform m ON m.store_lower = lower(trim(r.store))
GROUP BY ALL;
