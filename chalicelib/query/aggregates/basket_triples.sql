-- Three products bought together in at least $min_count baskets, for rules such as "A and B -> C".
-- Params: $min_count, $max_basket (as in basket_pairs.sql). Run it only when basket_stats.sql says
-- triple_work is small: the work grows with the cube of basket size.
WITH {{baskets}},
{{frequent}}
SELECT a.item AS item_a, b.item AS item_b, c.item AS item_c, COUNT(*) AS triple_count
FROM frequent AS a
JOIN frequent AS b ON b.basket_id = a.basket_id AND a.item < b.item
JOIN frequent AS c ON c.basket_id = a.basket_id AND b.item < c.item
GROUP BY a.item, b.item, c.item
HAVING COUNT(*) >= $min_count
ORDER BY triple_count DESC, item_a, item_b, item_c
