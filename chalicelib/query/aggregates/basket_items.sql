-- How many baskets hold each product, and how many baskets there are, under the same basket rules
-- as basket_pairs.sql. Params: $max_basket (integer: larger baskets are left out).
WITH {{baskets}}
SELECT
    item,
    COUNT(*) AS item_count,
    MAX(n_baskets) AS n_baskets
FROM baskets
CROSS JOIN (SELECT COUNT(DISTINCT basket_id) AS n_baskets FROM baskets) AS totals
GROUP BY item
ORDER BY item_count DESC, item
