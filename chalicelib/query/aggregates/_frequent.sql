-- Shared by basket_pairs, basket_triples and basket_stats (included where they say {{frequent}}, after
-- {{baskets}}): how many baskets hold each product, and the basket lines of products in at least $min_count
-- baskets. A pair or triple cannot be more frequent than any of its products, so rare ones are dropped first.
items AS (
    SELECT item, COUNT(*) AS item_count FROM baskets GROUP BY item
),
frequent AS (
    SELECT b.basket_id, b.item
    FROM baskets AS b
    JOIN items AS i ON i.item = b.item
    WHERE i.item_count >= $min_count
)
