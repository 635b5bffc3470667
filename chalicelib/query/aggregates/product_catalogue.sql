-- One row per product as sold: its name, category, typical price and reach, for naming and price bands.
-- No params. Products are keyed as in interactions.sql (product_id, or the name when there is no id).
WITH lines AS (
    SELECT
        COALESCE(CAST(product_id AS VARCHAR), product_name) AS product_id,
        product_name,
        category,
        CAST(customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(quantity, 1) AS quantity,
        COALESCE(amount, unit_price * COALESCE(quantity, 1), 0) AS amount,
        CAST(ts AS TIMESTAMP) AS ts
    FROM transactions
    WHERE COALESCE(CAST(product_id AS VARCHAR), product_name) IS NOT NULL
      AND NOT COALESCE(is_return, COALESCE(quantity, 1) < 0)
)
SELECT
    product_id,
    COALESCE(MAX(product_name), product_id) AS product_name,
    COALESCE(MAX(category), 'Uncategorised') AS category,
    CASE WHEN SUM(quantity) > 0 THEN SUM(amount) / SUM(quantity) END AS avg_price,
    COUNT(DISTINCT basket_id) AS orders,
    COUNT(DISTINCT customer_id) AS customers,
    SUM(quantity) AS units,
    SUM(amount) AS revenue,
    MIN(ts) AS first_ts,
    MAX(ts) AS last_ts
FROM lines
GROUP BY product_id
ORDER BY product_id
