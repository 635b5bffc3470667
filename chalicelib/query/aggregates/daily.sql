-- One row per day with sales between $start (inclusive) and $end (exclusive); either may be NULL for no bound.
-- Feeds KPIs, trends, forecasts and anomaly detection. Days without any sale have no row: fill them with 0.
-- revenue, orders and units count purchases only (returns excluded), so a return weeks later does not look
-- like a slump on an unrelated day; returns are reported on the day they happen, as a positive amount, and
-- net revenue is revenue - returns. An order is order_id, or the customer's day when there are no order numbers.
-- new_customers bought that day for the first time ever (history before $start counts); returning_customers
-- had bought on an earlier day. Rows without a customer count towards revenue but not customers.
WITH lines AS (
    SELECT
        CAST(ts AS DATE) AS day,
        CAST(customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(amount, unit_price * COALESCE(quantity, 1), 0) AS amount,
        COALESCE(quantity, 1) AS quantity,
        COALESCE(is_return, COALESCE(quantity, 1) < 0) AS is_return
    FROM transactions
    WHERE ts IS NOT NULL
),
first_purchase AS (
    SELECT customer_id, MIN(day) AS first_day
    FROM lines
    WHERE customer_id IS NOT NULL AND NOT is_return
    GROUP BY customer_id
)
SELECT
    l.day AS date,
    SUM(CASE WHEN NOT l.is_return THEN l.amount ELSE 0 END) AS revenue,
    SUM(CASE WHEN l.is_return THEN ABS(l.amount) ELSE 0 END) AS returns,
    COUNT(DISTINCT CASE WHEN NOT l.is_return THEN l.basket_id END) AS orders,
    SUM(CASE WHEN NOT l.is_return THEN l.quantity ELSE 0 END) AS units,
    COUNT(DISTINCT CASE WHEN NOT l.is_return THEN l.customer_id END) AS customers,
    COUNT(DISTINCT CASE WHEN NOT l.is_return AND f.first_day = l.day THEN l.customer_id END) AS new_customers,
    COUNT(DISTINCT CASE WHEN NOT l.is_return AND f.first_day < l.day THEN l.customer_id END) AS returning_customers
FROM lines AS l
LEFT JOIN first_purchase AS f ON f.customer_id = l.customer_id
WHERE l.day >= COALESCE(CAST($start AS DATE), DATE '0001-01-01')
  AND l.day < COALESCE(CAST($end AS DATE), DATE '9999-12-31')
GROUP BY l.day
ORDER BY l.day
