-- The size of the basket-mining work before doing it: baskets, and how many pairs and triples of
-- frequent products they would produce. Params: $min_count, $max_basket (as in basket_pairs.sql).
WITH {{baskets}},
{{frequent}},
frequent_sizes AS (
    SELECT basket_id, CAST(COUNT(*) AS DOUBLE) AS n FROM frequent GROUP BY basket_id
)
SELECT
    (SELECT COUNT(DISTINCT basket_id) FROM baskets) AS n_baskets,
    (SELECT COUNT(*) FROM sizes WHERE n_items > $max_basket) AS oversized_baskets,
    (SELECT COUNT(*) FROM items) AS n_items,
    (SELECT COUNT(*) FROM items WHERE item_count >= $min_count) AS frequent_items,
    COALESCE(SUM(n * (n - 1) / 2), 0) AS pair_work,
    COALESCE(SUM(n * (n - 1) * (n - 2) / 6), 0) AS triple_work
FROM frequent_sizes
