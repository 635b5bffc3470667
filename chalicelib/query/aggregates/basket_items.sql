-- How many baskets hold each product, and how many baskets there are, under the same basket rules
-- as basket_pairs.sql. Params: $max_basket (integer: larger baskets are left out).
WITH lines AS (
    SELECT DISTINCT
        COALESCE(CAST(order_id AS VARCHAR),
                 CAST(customer_id AS VARCHAR) || '@' || CAST(CAST(ts AS DATE) AS VARCHAR)) AS basket_id,
        COALESCE(CAST(product_id AS VARCHAR), product_name) AS item
    FROM transactions
    WHERE (order_id IS NOT NULL OR (customer_id IS NOT NULL AND ts IS NOT NULL))
      AND COALESCE(CAST(product_id AS VARCHAR), product_name) IS NOT NULL
      AND NOT COALESCE(is_return, COALESCE(quantity, 1) < 0)
),
sizes AS (
    SELECT basket_id, COUNT(*) AS n_items FROM lines GROUP BY basket_id
),
baskets AS (
    SELECT l.basket_id, l.item
    FROM lines AS l
    JOIN sizes AS s ON s.basket_id = l.basket_id
    WHERE s.n_items <= $max_basket
)
SELECT
    item,
    COUNT(*) AS item_count,
    MAX(n_baskets) AS n_baskets
FROM baskets
CROSS JOIN (SELECT COUNT(DISTINCT basket_id) AS n_baskets FROM baskets) AS totals
GROUP BY item
ORDER BY item_count DESC, item
