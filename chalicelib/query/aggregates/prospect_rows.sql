-- One row per prospect (the latest batch's values when a prospect was uploaded twice), for lead scoring.
-- No params. Grows with prospects, not with sales.
WITH ranked AS (
    SELECT
        CAST(prospect_id AS VARCHAR) AS prospect_id,
        region,
        lead_source,
        created_date,
        converted,
        ROW_NUMBER() OVER (PARTITION BY CAST(prospect_id AS VARCHAR) ORDER BY batch_id DESC) AS version
    FROM prospects
    WHERE prospect_id IS NOT NULL
)
SELECT prospect_id, region, lead_source, created_date, converted
FROM ranked
WHERE version = 1
ORDER BY prospect_id
