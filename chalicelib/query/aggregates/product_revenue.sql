-- One row per product sold between $start (inclusive) and $end (exclusive); either may be NULL.
-- For the top-products table and the Pareto share (how much revenue the best 20 % of products bring).
-- revenue counts purchases (returns excluded, as in daily.sql); returns is the returned amount, positive.
-- A product is product_id, else product_name; its name and category are the most recent seen.
WITH lines AS (
    SELECT
        COALESCE(CAST(product_id AS VARCHAR), CAST(product_name AS VARCHAR)) AS product_id,
        CAST(product_name AS VARCHAR) AS product_name,
        CAST(category AS VARCHAR) AS category,
        CAST(ts AS TIMESTAMP) AS ts,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        CAST(customer_id AS VARCHAR) AS customer_id,
        COALESCE(amount, unit_price * COALESCE(quantity, 1), 0) AS amount,
        COALESCE(quantity, 1) AS quantity,
        COALESCE(is_return, COALESCE(quantity, 1) < 0) AS is_return
    FROM transactions
    WHERE ts IS NOT NULL
      AND COALESCE(CAST(product_id AS VARCHAR), CAST(product_name AS VARCHAR)) IS NOT NULL
      AND CAST(ts AS DATE) >= COALESCE(CAST($start AS DATE), DATE '0001-01-01')
      AND CAST(ts AS DATE) < COALESCE(CAST($end AS DATE), DATE '9999-12-31')
)
SELECT
    product_id,
    COALESCE(MAX_BY(product_name, ts), product_id) AS product_name,
    COALESCE(MAX_BY(category, ts), '(unknown)') AS category,
    SUM(CASE WHEN NOT is_return THEN amount ELSE 0 END) AS revenue,
    SUM(CASE WHEN is_return THEN ABS(amount) ELSE 0 END) AS returns,
    SUM(CASE WHEN NOT is_return THEN quantity ELSE 0 END) AS units,
    COUNT(DISTINCT CASE WHEN NOT is_return THEN basket_id END) AS orders,
    COUNT(DISTINCT CASE WHEN NOT is_return THEN customer_id END) AS customers
FROM lines
GROUP BY product_id
ORDER BY revenue DESC, product_id
