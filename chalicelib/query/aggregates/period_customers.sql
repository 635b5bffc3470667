-- Distinct customers in one window, $start (inclusive) to $end (exclusive): numbers that cannot be added up
-- from daily rows because one customer buys on several days. Used by the KPI cards for each compared window.
-- customers bought in the window; new_customers made their first purchase ever in it; repeat_customers placed
-- two or more orders in it or had bought before it. Returns are not purchases.
WITH lines AS (
    SELECT
        CAST(customer_id AS VARCHAR) AS customer_id,
        CAST(ts AS DATE) AS day,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id
    FROM transactions
    WHERE ts IS NOT NULL AND customer_id IS NOT NULL
      AND NOT COALESCE(is_return, COALESCE(quantity, 1) < 0)
),
per_customer AS (
    SELECT
        customer_id,
        MIN(day) AS first_day,
        COUNT(DISTINCT CASE WHEN day >= CAST($start AS DATE) AND day < CAST($end AS DATE) THEN basket_id END)
            AS orders_in_window
    FROM lines
    GROUP BY customer_id
)
SELECT
    COUNT(*) FILTER (WHERE orders_in_window > 0) AS customers,
    COUNT(*) FILTER (WHERE orders_in_window > 0 AND first_day >= CAST($start AS DATE)) AS new_customers,
    COUNT(*) FILTER (WHERE orders_in_window > 1 OR (orders_in_window > 0 AND first_day < CAST($start AS DATE)))
        AS repeat_customers
FROM per_customer
