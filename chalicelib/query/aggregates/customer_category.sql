-- Long table of each customer's purchases per category (the category mix), as of $as_of.
-- Params: $as_of (timestamp, or NULL for the latest sale). amount_share is the category's part of
-- the customer's gross purchases; order_share its part of the customer's (order, category) picks, a
-- better measure of taste because one expensive item does not swamp it. Each adds up to 1 per customer.
WITH bounds AS (
    SELECT COALESCE(CAST($as_of AS TIMESTAMP), MAX(CAST(ts AS TIMESTAMP))) AS as_of
    FROM transactions
),
lines AS (
    SELECT
        CAST(t.customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(t.order_id AS VARCHAR),
                 CAST(t.customer_id AS VARCHAR) || '@' || CAST(CAST(t.ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(t.category, 'Uncategorised') AS category,
        COALESCE(t.amount, t.unit_price * COALESCE(t.quantity, 1), 0) AS amount,
        COALESCE(t.quantity, 1) AS quantity
    FROM transactions AS t
    CROSS JOIN bounds AS b
    WHERE t.customer_id IS NOT NULL
      AND t.ts IS NOT NULL
      AND CAST(t.ts AS TIMESTAMP) <= b.as_of
      AND NOT COALESCE(t.is_return, COALESCE(t.quantity, 1) < 0)
),
per_category AS (
    SELECT customer_id, category, COUNT(DISTINCT basket_id) AS orders, SUM(quantity) AS quantity,
           SUM(amount) AS amount
    FROM lines
    GROUP BY customer_id, category
)
SELECT
    customer_id,
    category,
    orders,
    quantity,
    amount,
    CASE WHEN SUM(amount) OVER (PARTITION BY customer_id) > 0
         THEN amount / SUM(amount) OVER (PARTITION BY customer_id)
         ELSE CAST(orders AS DOUBLE) / SUM(orders) OVER (PARTITION BY customer_id) END AS amount_share,
    CAST(orders AS DOUBLE) / SUM(orders) OVER (PARTITION BY customer_id) AS order_share
FROM per_category
ORDER BY customer_id, category
