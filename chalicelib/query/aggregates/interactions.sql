-- The customer x product matrix in long form, for recommenders and leads.
-- Params: $as_of (timestamp, or NULL for the latest sale). Returns are left out: a returned
-- product is not a taste signal. Products are keyed by product_id, or the name when there is no id.
WITH bounds AS (
    SELECT COALESCE(CAST($as_of AS TIMESTAMP), MAX(CAST(ts AS TIMESTAMP))) AS as_of
    FROM transactions
),
lines AS (
    SELECT
        CAST(t.customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(t.product_id AS VARCHAR), t.product_name) AS product_id,
        COALESCE(CAST(t.order_id AS VARCHAR),
                 CAST(t.customer_id AS VARCHAR) || '@' || CAST(CAST(t.ts AS DATE) AS VARCHAR)) AS basket_id,
        CAST(t.ts AS TIMESTAMP) AS ts,
        COALESCE(t.quantity, 1) AS quantity,
        COALESCE(t.amount, t.unit_price * COALESCE(t.quantity, 1), 0) AS amount
    FROM transactions AS t
    CROSS JOIN bounds AS b
    WHERE t.customer_id IS NOT NULL
      AND COALESCE(CAST(t.product_id AS VARCHAR), t.product_name) IS NOT NULL
      AND t.ts IS NOT NULL
      AND CAST(t.ts AS TIMESTAMP) <= b.as_of
      AND NOT COALESCE(t.is_return, COALESCE(t.quantity, 1) < 0)
)
SELECT
    customer_id,
    product_id,
    COUNT(DISTINCT basket_id) AS orders,
    SUM(quantity) AS quantity,
    SUM(amount) AS amount,
    MAX(ts) AS last_ts
FROM lines
GROUP BY customer_id, product_id
ORDER BY customer_id, product_id
