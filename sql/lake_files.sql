-- The manifest of every landed file: the newest row per landing (see assets/lake.py).
CREATE OR REPLACE VIEW lake_files AS
SELECT sha256, source, dataset, original_name, size, landed_at, observed_at, status, rows, reason,
       raw_key, as_of, landing_id, recorded_at
FROM lake_files_history
QUALIFY row_number() OVER (PARTITION BY landing_id ORDER BY recorded_at DESC) = 1;
