-- Shared by the basket_*.sql files (included where they say {{baskets}}): one basket per order, or per
-- customer and day when there are no order numbers; returns left out; baskets with more than $max_basket
-- distinct products left out.
lines AS (
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
