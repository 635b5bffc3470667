-- Products bought together: each pair seen in at least $min_count baskets, with both products'
-- basket counts and the number of baskets, so support, confidence and lift follow by division.
-- Params: $min_count (integer >= 1), $max_basket (integer: baskets with more distinct products are
-- left out of every count, because one huge order adds n^2 pairs and says little about taste).
-- A basket is an order, or a customer's day when there are no order numbers; returns are left out.
WITH {{baskets}},
{{frequent}},
totals AS (
    SELECT COUNT(DISTINCT basket_id) AS n_baskets FROM baskets
),
pairs AS (
    SELECT a.item AS item_a, b.item AS item_b, COUNT(*) AS pair_count
    FROM frequent AS a
    JOIN frequent AS b ON a.basket_id = b.basket_id AND a.item < b.item
    GROUP BY a.item, b.item
    HAVING COUNT(*) >= $min_count
)
SELECT
    p.item_a,
    p.item_b,
    p.pair_count,
    ia.item_count AS count_a,
    ib.item_count AS count_b,
    t.n_baskets
FROM pairs AS p
JOIN items AS ia ON ia.item = p.item_a
JOIN items AS ib ON ib.item = p.item_b
CROSS JOIN totals AS t
ORDER BY p.pair_count DESC, p.item_a, p.item_b
