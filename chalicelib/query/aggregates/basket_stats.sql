-- The size of the basket-mining work before doing it: baskets, and how many pairs and triples of
-- frequent products they would produce. Params: $min_count, $max_basket (as in basket_pairs.sql).
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
),
items AS (
    SELECT item, COUNT(*) AS item_count FROM baskets GROUP BY item
),
frequent_sizes AS (
    SELECT b.basket_id, CAST(COUNT(*) AS DOUBLE) AS n
    FROM baskets AS b
    JOIN items AS i ON i.item = b.item
    WHERE i.item_count >= $min_count
    GROUP BY b.basket_id
)
SELECT
    (SELECT COUNT(DISTINCT basket_id) FROM baskets) AS n_baskets,
    (SELECT COUNT(*) FROM sizes WHERE n_items > $max_basket) AS oversized_baskets,
    (SELECT COUNT(*) FROM items) AS n_items,
    (SELECT COUNT(*) FROM items WHERE item_count >= $min_count) AS frequent_items,
    COALESCE(SUM(n * (n - 1) / 2), 0) AS pair_work,
    COALESCE(SUM(n * (n - 1) * (n - 2) / 6), 0) AS triple_work
FROM frequent_sizes
