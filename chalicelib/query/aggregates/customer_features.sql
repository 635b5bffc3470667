-- One row per customer: recency, frequency and spend as of $as_of, for RFM scores and segments.
-- Params: $as_of (timestamp, or NULL for the latest sale). Sales after $as_of are ignored.
-- An order is order_id, or the customer's day when the tenant has no order numbers.
-- frequency counts purchase orders (returns excluded); monetary is net of returns.
WITH bounds AS (
    SELECT COALESCE(CAST($as_of AS TIMESTAMP), MAX(CAST(ts AS TIMESTAMP))) AS as_of
    FROM transactions
),
lines AS (
    SELECT
        CAST(t.customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(t.order_id AS VARCHAR),
                 CAST(t.customer_id AS VARCHAR) || '@' || CAST(CAST(t.ts AS DATE) AS VARCHAR)) AS basket_id,
        CAST(t.ts AS TIMESTAMP) AS ts,
        COALESCE(t.amount, t.unit_price * COALESCE(t.quantity, 1), 0) AS amount,
        COALESCE(t.quantity, 1) AS quantity,
        COALESCE(CAST(t.product_id AS VARCHAR), t.product_name) AS product_id,
        COALESCE(t.category, 'Uncategorised') AS category,
        COALESCE(t.is_return, COALESCE(t.quantity, 1) < 0) AS is_return,
        b.as_of
    FROM transactions AS t
    CROSS JOIN bounds AS b
    WHERE t.customer_id IS NOT NULL
      AND t.ts IS NOT NULL
      AND CAST(t.ts AS TIMESTAMP) <= b.as_of
),
per_customer AS (
    SELECT
        customer_id,
        MAX(as_of) AS as_of,
        COUNT(DISTINCT CASE WHEN NOT is_return THEN basket_id END) AS frequency,
        SUM(amount) AS monetary,
        SUM(CASE WHEN NOT is_return THEN amount ELSE 0 END) AS gross_spend,
        SUM(CASE WHEN is_return THEN -amount ELSE 0 END) AS returned,
        SUM(CASE WHEN NOT is_return THEN quantity ELSE 0 END) AS units,
        COUNT(DISTINCT CASE WHEN NOT is_return THEN product_id END) AS distinct_products,
        COUNT(DISTINCT CASE WHEN NOT is_return THEN category END) AS distinct_categories,
        MIN(ts) AS first_ts,
        COALESCE(MAX(CASE WHEN NOT is_return THEN ts END), MAX(ts)) AS last_ts
    FROM lines
    GROUP BY customer_id
)
SELECT
    customer_id,
    date_diff('day', last_ts, as_of) AS recency_days,
    frequency,
    monetary,
    CASE WHEN frequency > 0 THEN gross_spend / frequency ELSE 0 END AS aov,
    gross_spend,
    returned,
    units,
    distinct_products,
    distinct_categories,
    first_ts,
    last_ts,
    date_diff('day', first_ts, as_of) AS tenure_days
FROM per_customer
ORDER BY customer_id
