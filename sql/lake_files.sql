-- The manifest of every landed file: the newest row per landing (see assets/lake/manifest.py).
CREATE OR REPLACE VIEW lake_files AS
SELECT *
FROM lake_files_history
QUALIFY row_number() OVER (PARTITION BY landing_id ORDER BY recorded_at DESC) = 1;
