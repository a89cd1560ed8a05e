-- (e) on SQLite: low stock at one site (count and page 1).
BEGIN;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT sites.id, sites.brand_id, sites.name, sites.allow_negative_stock, sites.created_at
  FROM sites WHERE sites.brand_id = :brand_id AND sites.id = :site_id;
SELECT count(*) AS count_1 FROM (SELECT products.id AS product_id, products.sku, products.name, coalesce(at_site.on_hand, 0) AS on_hand,
         products.min_stock, products.min_stock - coalesce(at_site.on_hand, 0) AS shortfall
  FROM products LEFT OUTER JOIN (
      SELECT stock_levels.product_id AS product_id, CAST(sum(stock_levels.on_hand) AS BIGINT) AS on_hand
      FROM stock_levels WHERE stock_levels.brand_id = :brand_id AND stock_levels.site_id = :site_id
      GROUP BY stock_levels.product_id) AS at_site ON at_site.product_id = products.id
  WHERE products.brand_id = :brand_id AND products.archived IS 0
    AND coalesce(at_site.on_hand, 0) < products.min_stock) AS anon_1;
SELECT products.id AS product_id, products.sku, products.name, coalesce(at_site.on_hand, 0) AS on_hand,
         products.min_stock, products.min_stock - coalesce(at_site.on_hand, 0) AS shortfall
  FROM products LEFT OUTER JOIN (
      SELECT stock_levels.product_id AS product_id, CAST(sum(stock_levels.on_hand) AS BIGINT) AS on_hand
      FROM stock_levels WHERE stock_levels.brand_id = :brand_id AND stock_levels.site_id = :site_id
      GROUP BY stock_levels.product_id) AS at_site ON at_site.product_id = products.id
  WHERE products.brand_id = :brand_id AND products.archived IS 0
    AND coalesce(at_site.on_hand, 0) < products.min_stock
  ORDER BY shortfall DESC, products.sku LIMIT 25 OFFSET 0;
COMMIT;
