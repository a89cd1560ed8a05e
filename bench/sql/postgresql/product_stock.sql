-- (e) GET /inventory/products/{id}/stock, as the API issues it with its token cache warm (no
-- auth query): the product check, then its level at every site of the brand.
\set i random(1, :products)
BEGIN;
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i);
SELECT sites.id, sites.name, stock_levels.location_id, stock_levels.on_hand
  FROM sites LEFT OUTER JOIN stock_levels ON stock_levels.brand_id = sites.brand_id
   AND stock_levels.site_id = sites.id AND stock_levels.product_id = bench_product(:i)
  WHERE sites.brand_id = :brand_id ORDER BY sites.name, sites.id, stock_levels.location_id;
COMMIT;
