-- (e) on SQLite: one product's stock at every site.
BEGIN;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
SELECT sites.id, sites.name, stock_levels.location_id, stock_levels.on_hand
  FROM sites LEFT OUTER JOIN stock_levels ON stock_levels.brand_id = sites.brand_id
   AND stock_levels.site_id = sites.id AND stock_levels.product_id = :product_id
  WHERE sites.brand_id = :brand_id ORDER BY sites.name, sites.id, stock_levels.location_id;
COMMIT;
