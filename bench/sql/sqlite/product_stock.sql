-- (e) on SQLite: one product's stock at every site, as the API issues it with its token
-- cache warm (no auth query): the product check, then the sites joined to its levels.
BEGIN;
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
SELECT sites.id, sites.name, stock_levels.location_id, stock_levels.on_hand
  FROM sites LEFT OUTER JOIN stock_levels ON stock_levels.brand_id = sites.brand_id
   AND stock_levels.site_id = sites.id AND stock_levels.product_id = :product_id
  WHERE sites.brand_id = :brand_id ORDER BY sites.name, sites.id, stock_levels.location_id;
COMMIT;
