-- The Explore layer's rollup of one transactions batch ($batch): one row per day, category, product, region,
-- channel and currency, with the sums that add up across batches (de-duplication keeps a row in one batch
-- only). Distinct counts (orders, customers) do not add up, so they are not here: Explore reads them from
-- the order lines. Definitions follow daily.sql: revenue and units count purchases; returns are the returned
-- amount, positive; a product is named by product_name, else product_id; a missing value reads '(unknown)'.
SELECT
    CAST(ts AS DATE) AS day,
    COALESCE(CAST(category AS VARCHAR), '(unknown)') AS category,
    COALESCE(CAST(product_name AS VARCHAR), CAST(product_id AS VARCHAR), '(unknown)') AS product,
    COALESCE(CAST(region AS VARCHAR), '(unknown)') AS region,
    COALESCE(CAST(channel AS VARCHAR), '(unknown)') AS channel,
    CAST(currency AS VARCHAR) AS currency,
    SUM(CASE WHEN is_return THEN 0 ELSE amount END) AS revenue,
    SUM(CASE WHEN is_return THEN 0 ELSE quantity END) AS units,
    COUNT(*) AS lines,
    SUM(CASE WHEN is_return THEN ABS(amount) ELSE 0 END) AS returns,
    COUNT(*) FILTER (WHERE is_return) AS return_lines
FROM (
    SELECT ts, category, product_name, product_id, region, channel, currency,
           COALESCE(amount, unit_price * COALESCE(quantity, 1), 0) AS amount,
           COALESCE(quantity, 1) AS quantity,
           COALESCE(is_return, COALESCE(quantity, 1) < 0) AS is_return
    FROM transactions
    WHERE batch_id = $batch AND ts IS NOT NULL
) AS lines
GROUP BY 1, 2, 3, 4, 5, 6
