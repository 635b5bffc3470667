-- What the tenant's data can support, so the analysis plan can skip a step with a reason instead of failing.
-- No params. One row: sales rows, first and last sale, distinct customers, products, categories and orders
-- (purchases only; an order is order_id, or the customer's day as elsewhere), days with traffic, prospects,
-- and the currencies the sales are in: how many, and the one most rows use.
WITH lines AS (
    SELECT
        CAST(ts AS TIMESTAMP) AS ts,
        CAST(customer_id AS VARCHAR) AS customer_id,
        COALESCE(CAST(product_id AS VARCHAR), product_name) AS product_id,
        category,
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(is_return, COALESCE(quantity, 1) < 0) AS is_return
    FROM transactions
    WHERE ts IS NOT NULL
)
SELECT
    COUNT(*) AS sales_rows,
    MIN(ts) AS first_ts,
    MAX(ts) AS last_ts,
    COUNT(DISTINCT customer_id) AS customers,
    COUNT(DISTINCT product_id) AS products,
    COUNT(DISTINCT category) AS categories,
    COUNT(DISTINCT CASE WHEN NOT is_return THEN basket_id END) AS orders,
    (SELECT COUNT(DISTINCT CAST(date AS DATE)) FROM traffic WHERE visits IS NOT NULL) AS traffic_days,
    (SELECT COUNT(DISTINCT prospect_id) FROM prospects) AS prospects,
    (SELECT COUNT(DISTINCT currency) FROM transactions) AS currencies,
    (SELECT currency FROM transactions WHERE currency IS NOT NULL
     GROUP BY currency ORDER BY COUNT(*) DESC, currency LIMIT 1) AS currency
FROM lines
