-- (e) GET /inventory/low-stock?site_id=.. (one of the 18 generated sites, 100 low products
-- each; page 1 of 25 with its total), as the API issues it with its caches warm (no token or
-- site query): ONE query. Only candidates are summed (stock.service._low_stock_candidates:
-- levels below the brand's largest min_stock, by the partial index of migration 0012, and
-- products with a minimum and no level at the site); each candidate's on hand and reserved
-- from correlated sums, less its expired holds; the total from count(*) OVER (). Captured
-- from low_stock_query with its values inlined (the API binds them; the bound of the
-- partial index is a literal in both).
\set s random(2, :sites - 1)
BEGIN;
SELECT per_product.product_id, per_product.sku, per_product.name, per_product.on_hand, per_product.reserved, per_product.on_hand - per_product.reserved AS available, per_product.min_stock, per_product.min_stock - (per_product.on_hand - per_product.reserved) AS shortfall, count(*) OVER () AS _total 
FROM (SELECT products.id AS product_id, products.sku AS sku, products.name AS name, products.min_stock AS min_stock, coalesce((SELECT CAST(sum(stock_levels.on_hand) AS BIGINT) AS sum_1 
FROM stock_levels 
WHERE stock_levels.brand_id = products.brand_id AND stock_levels.site_id = bench_site(:s) AND stock_levels.product_id = products.id), 0) AS on_hand, coalesce((SELECT CAST(sum(stock_levels.reserved) AS BIGINT) AS sum_2 
FROM stock_levels 
WHERE stock_levels.brand_id = products.brand_id AND stock_levels.site_id = bench_site(:s) AND stock_levels.product_id = products.id), 0) - (SELECT coalesce(sum(reservation_lines.remaining), 0) AS coalesce_1 
FROM reservation_lines 
WHERE reservation_lines.brand_id = products.brand_id AND reservation_lines.product_id = products.id AND reservation_lines.site_id = bench_site(:s) AND reservation_lines.active IS true AND reservation_lines.expires_at <= now()) AS reserved 
FROM (SELECT stock_levels.product_id AS product_id 
FROM stock_levels 
WHERE stock_levels.brand_id = :brand_id AND stock_levels.site_id = bench_site(:s) AND stock_levels.on_hand - stock_levels.reserved < (SELECT max(products.min_stock) AS max_1 
FROM products 
WHERE products.brand_id = :brand_id AND products.archived IS false) AND stock_levels.on_hand - stock_levels.reserved < 2147483647 UNION SELECT products.id AS id 
FROM products 
WHERE products.brand_id = :brand_id AND products.min_stock > 0 AND (SELECT 1 
FROM stock_levels 
WHERE stock_levels.brand_id = :brand_id AND stock_levels.site_id = bench_site(:s) AND stock_levels.product_id = products.id 
 LIMIT 1) IS NULL
 LIMIT ALL OFFSET 0) AS candidates JOIN products ON products.brand_id = :brand_id AND products.id = candidates.product_id 
WHERE products.archived IS false
 LIMIT ALL OFFSET 0) AS per_product 
WHERE per_product.on_hand - per_product.reserved < per_product.min_stock ORDER BY shortfall DESC, per_product.sku 
 LIMIT 25 OFFSET 0;
COMMIT;
