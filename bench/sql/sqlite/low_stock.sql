-- (e) on SQLite: low stock at one site, page 1 with its total, as the API issues it with its
-- caches warm (no token or site query): ONE query, the short rows of the site's stored
-- shortfalls (an index range of 0013's partial index), each with its product's fields and
-- less its expired holds; the total from count(*) OVER () (the inner LIMIT -1 OFFSET 0 is how
-- SQLAlchemy's SQLite dialect writes the API's OFFSET 0 fence).
BEGIN;
SELECT per_product.product_id, per_product.sku, per_product.name, per_product.on_hand, per_product.reserved, per_product.on_hand - per_product.reserved AS available, per_product.min_stock, per_product.min_stock - (per_product.on_hand - per_product.reserved) AS shortfall, count(*) OVER () AS _total
FROM (SELECT site_shortfalls.product_id AS product_id, (SELECT products.sku
FROM products
WHERE products.brand_id = site_shortfalls.brand_id AND products.id = site_shortfalls.product_id) AS sku, (SELECT products.name
FROM products
WHERE products.brand_id = site_shortfalls.brand_id AND products.id = site_shortfalls.product_id) AS name, site_shortfalls.min_stock AS min_stock, site_shortfalls.on_hand AS on_hand, site_shortfalls.reserved - CASE WHEN (site_shortfalls.reserved = 0) THEN 0 ELSE (SELECT coalesce(sum(reservation_lines.remaining), 0) AS coalesce_1
FROM reservation_lines
WHERE reservation_lines.brand_id = site_shortfalls.brand_id AND reservation_lines.product_id = site_shortfalls.product_id AND reservation_lines.site_id = :site_id AND reservation_lines.active IS 1 AND reservation_lines.expires_at <= :now) END AS reserved
FROM site_shortfalls
WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id AND site_shortfalls.min_stock > site_shortfalls.on_hand - site_shortfalls.reserved AND (SELECT products.archived
FROM products
WHERE products.brand_id = site_shortfalls.brand_id AND products.id = site_shortfalls.product_id) IS 0
 LIMIT -1 OFFSET 0) AS per_product
WHERE per_product.on_hand - per_product.reserved < per_product.min_stock ORDER BY shortfall DESC, per_product.sku
 LIMIT 25 OFFSET 0;
COMMIT;
