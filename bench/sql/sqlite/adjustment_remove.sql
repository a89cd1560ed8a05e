-- (a) on SQLite, quantity −1: the conditional level write instead of the upsert.
BEGIN IMMEDIATE;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT sites.id, sites.brand_id, sites.name, sites.allow_negative_stock, sites.created_at
  FROM sites WHERE sites.brand_id = :brand_id AND sites.id = :site_id;
SELECT products.id, products.brand_id, products.sku, products.name, products.unit, products.min_stock,
       products.location_aware, products.cost_per_unit, products.archived, products.created_at, products.updated_at
  FROM products WHERE products.brand_id = :brand_id AND products.id IN (:product_id);
UPDATE stock_levels SET on_hand = stock_levels.on_hand + :q, updated_at = :now
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = :product_id
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand + :q >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS 1)
  RETURNING stock_levels.on_hand;
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       unit_cost, user_id, created_at)
  VALUES (:movement_id, :brand_id, 'adjustment', :product_id, :site_id, NULL, :q, NULL,
          NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, :user_id, :now);
COMMIT;
