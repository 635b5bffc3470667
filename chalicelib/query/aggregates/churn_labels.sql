-- Churn training rows: each customer's behaviour up to $cutoff, and whether they bought again in
-- the $window_days after it (churned = 1 when they did not).
-- Params: $cutoff (timestamp), $window_days (integer). "recent" is the last window before the
-- cutoff and "prior" the window before that, so a falling order rate shows as recent < prior.
-- label_complete says whether the data reach the end of the label window; scoring today's
-- customers uses $cutoff = the latest sale, where no label is known yet.
WITH params AS (
    SELECT CAST($cutoff AS TIMESTAMP) AS cutoff, CAST($window_days AS INTEGER) AS window_days
),
lines AS (
    SELECT
        CAST(t.customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(t.order_id AS VARCHAR),
                 CAST(t.customer_id AS VARCHAR) || '@' || CAST(CAST(t.ts AS DATE) AS VARCHAR)) AS basket_id,
        CAST(t.ts AS TIMESTAMP) AS ts,
        COALESCE(t.amount, t.unit_price * COALESCE(t.quantity, 1), 0) AS amount,
        COALESCE(CAST(t.product_id AS VARCHAR), t.product_name) AS product_id,
        COALESCE(t.category, 'Uncategorised') AS category,
        COALESCE(t.is_return, COALESCE(t.quantity, 1) < 0) AS is_return
    FROM transactions AS t
    WHERE t.customer_id IS NOT NULL AND t.ts IS NOT NULL
),
history AS (
    SELECT
        l.customer_id,
        MAX(p.cutoff) AS cutoff,
        COUNT(DISTINCT CASE WHEN NOT l.is_return THEN l.basket_id END) AS orders,
        SUM(l.amount) AS monetary,
        SUM(CASE WHEN NOT l.is_return THEN l.amount ELSE 0 END) AS gross_spend,
        SUM(CASE WHEN l.is_return THEN -l.amount ELSE 0 END) AS returned,
        COUNT(DISTINCT CASE WHEN NOT l.is_return THEN l.product_id END) AS distinct_products,
        COUNT(DISTINCT CASE WHEN NOT l.is_return THEN l.category END) AS distinct_categories,
        COUNT(DISTINCT CASE WHEN NOT l.is_return AND l.ts > p.cutoff - p.window_days * INTERVAL 1 DAY
                            THEN l.basket_id END) AS orders_recent,
        COUNT(DISTINCT CASE WHEN NOT l.is_return AND l.ts > p.cutoff - 2 * p.window_days * INTERVAL 1 DAY
                                 AND l.ts <= p.cutoff - p.window_days * INTERVAL 1 DAY
                            THEN l.basket_id END) AS orders_prior,
        SUM(CASE WHEN NOT l.is_return AND l.ts > p.cutoff - p.window_days * INTERVAL 1 DAY
                 THEN l.amount ELSE 0 END) AS spend_recent,
        SUM(CASE WHEN NOT l.is_return AND l.ts > p.cutoff - 2 * p.window_days * INTERVAL 1 DAY
                      AND l.ts <= p.cutoff - p.window_days * INTERVAL 1 DAY
                 THEN l.amount ELSE 0 END) AS spend_prior,
        MIN(l.ts) AS first_ts,
        COALESCE(MAX(CASE WHEN NOT l.is_return THEN l.ts END), MAX(l.ts)) AS last_ts
    FROM lines AS l
    CROSS JOIN params AS p
    WHERE l.ts <= p.cutoff
    GROUP BY l.customer_id
),
future AS (
    SELECT l.customer_id, COUNT(DISTINCT l.basket_id) AS future_orders
    FROM lines AS l
    CROSS JOIN params AS p
    WHERE NOT l.is_return
      AND l.ts > p.cutoff
      AND l.ts <= p.cutoff + p.window_days * INTERVAL 1 DAY
    GROUP BY l.customer_id
),
coverage AS (
    SELECT MAX(l.ts) >= MAX(p.cutoff + p.window_days * INTERVAL 1 DAY) AS label_complete
    FROM lines AS l
    CROSS JOIN params AS p
)
SELECT
    h.customer_id,
    h.cutoff,
    date_diff('day', h.last_ts, h.cutoff) AS recency_days,
    date_diff('day', h.first_ts, h.cutoff) AS tenure_days,
    h.orders,
    h.monetary,
    CASE WHEN h.orders > 0 THEN h.gross_spend / h.orders ELSE 0 END AS aov,
    h.returned,
    h.distinct_products,
    h.distinct_categories,
    h.orders_recent,
    h.orders_prior,
    h.spend_recent,
    h.spend_prior,
    CASE WHEN h.orders > 1
         THEN CAST(date_diff('day', h.first_ts, h.last_ts) AS DOUBLE) / (h.orders - 1) END AS avg_days_between,
    COALESCE(f.future_orders, 0) AS future_orders,
    CASE WHEN f.future_orders IS NULL THEN 1 ELSE 0 END AS churned,
    c.label_complete
FROM history AS h
LEFT JOIN future AS f ON f.customer_id = h.customer_id
CROSS JOIN coverage AS c
ORDER BY h.customer_id
