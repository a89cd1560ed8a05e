-- (e) on SQLite: low stock at one site, page 1 with its total, as the API issues it with its
-- caches warm (no token or site query): ONE query, each product's stock at the site from a
-- correlated sum, the total from count(*) OVER () (the inner LIMIT -1 OFFSET 0 is how
-- SQLAlchemy's SQLite dialect writes the API's OFFSET 0 fence).
BEGIN;
SELECT per_product.product_id, per_product.sku, per_product.name, per_product.on_hand, per_product.min_stock,
       per_product.min_stock - per_product.on_hand AS shortfall, count(*) OVER () AS _total
  FROM (SELECT products.id AS product_id, products.sku AS sku, products.name AS name,
               products.min_stock AS min_stock,
               coalesce((SELECT CAST(sum(stock_levels.on_hand) AS BIGINT) AS sum_1
                         FROM stock_levels
                         WHERE stock_levels.brand_id = products.brand_id
                           AND stock_levels.site_id = :site_id
                           AND stock_levels.product_id = products.id), 0) AS on_hand
        FROM products
        WHERE products.brand_id = :brand_id AND products.archived IS 0
        LIMIT -1 OFFSET 0) AS per_product
  WHERE per_product.min_stock > per_product.on_hand
  ORDER BY shortfall DESC, per_product.sku
  LIMIT 25 OFFSET 0;
COMMIT;
