-- (e) GET /inventory/low-stock?site_id=.. (one of the 18 generated sites, 100 low products
-- each; page 1 of 25 with its total), as the API issues it with its caches warm (no token or
-- site query): ONE query, each product's stock at the site from a correlated sum, the total
-- from count(*) OVER (). The 0s and the 25 are bound parameters, as the API sends them (the
-- inner OFFSET keeps the subquery from being flattened).
\set s random(2, :sites - 1)
\set zero 0
\set per_page 25
BEGIN;
SELECT per_product.product_id, per_product.sku, per_product.name, per_product.on_hand, per_product.min_stock,
       per_product.min_stock - per_product.on_hand AS shortfall, count(*) OVER () AS _total
  FROM (SELECT products.id AS product_id, products.sku AS sku, products.name AS name,
               products.min_stock AS min_stock,
               coalesce((SELECT CAST(sum(stock_levels.on_hand) AS BIGINT) AS sum_1
                         FROM stock_levels
                         WHERE stock_levels.brand_id = products.brand_id
                           AND stock_levels.site_id = bench_site(:s)
                           AND stock_levels.product_id = products.id), :zero::integer) AS on_hand
        FROM products
        WHERE products.brand_id = :brand_id AND products.archived IS false
        LIMIT ALL OFFSET :zero::integer) AS per_product
  WHERE per_product.min_stock > per_product.on_hand
  ORDER BY shortfall DESC, per_product.sku
  LIMIT :per_page::integer OFFSET :zero::integer;
COMMIT;
