-- Daily purchase revenue split by category, product, region and channel, in one long table:
-- (date, dimension, value, revenue, orders, units). Used to explain anomalies ("Bikes made 80 % of the jump")
-- and for drill-down charts. Between $start (inclusive) and $end (exclusive); either may be NULL.
-- Returns are excluded, as in daily.sql. Missing values show as '(unknown)'; a product is named by
-- product_name, else product_id. A (date, value) pair with no sales has no row: read it as 0.
WITH lines AS (
    SELECT
        CAST(ts AS DATE) AS day,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(amount, unit_price * COALESCE(quantity, 1), 0) AS amount,
        COALESCE(quantity, 1) AS quantity,
        COALESCE(CAST(category AS VARCHAR), '(unknown)') AS category,
        COALESCE(CAST(product_name AS VARCHAR), CAST(product_id AS VARCHAR), '(unknown)') AS product,
        COALESCE(CAST(region AS VARCHAR), '(unknown)') AS region,
        COALESCE(CAST(channel AS VARCHAR), '(unknown)') AS channel
    FROM transactions
    WHERE ts IS NOT NULL
      AND NOT COALESCE(is_return, COALESCE(quantity, 1) < 0)
      AND CAST(ts AS DATE) >= COALESCE(CAST($start AS DATE), DATE '0001-01-01')
      AND CAST(ts AS DATE) < COALESCE(CAST($end AS DATE), DATE '9999-12-31')
)
SELECT day AS date, 'category' AS dimension, category AS value,
       SUM(amount) AS revenue, COUNT(DISTINCT basket_id) AS orders, SUM(quantity) AS units
FROM lines GROUP BY day, category
UNION ALL
SELECT day AS date, 'product' AS dimension, product AS value,
       SUM(amount) AS revenue, COUNT(DISTINCT basket_id) AS orders, SUM(quantity) AS units
FROM lines GROUP BY day, product
UNION ALL
SELECT day AS date, 'region' AS dimension, region AS value,
       SUM(amount) AS revenue, COUNT(DISTINCT basket_id) AS orders, SUM(quantity) AS units
FROM lines GROUP BY day, region
UNION ALL
SELECT day AS date, 'channel' AS dimension, channel AS value,
       SUM(amount) AS revenue, COUNT(DISTINCT basket_id) AS orders, SUM(quantity) AS units
FROM lines GROUP BY day, channel
ORDER BY date, dimension, value
