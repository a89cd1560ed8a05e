-- (a) on SQLite, quantity −1: as adjustment_add.sql, with the conditional level write (the
-- stock check in the same UPDATE) instead of the upsert.
BEGIN IMMEDIATE;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
UPDATE stock_levels SET on_hand = (stock_levels.on_hand + :q), updated_at = :now
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = :product_id
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand + :q >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS 1)
  RETURNING on_hand;
UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + :q
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
    AND site_shortfalls.product_id = :product_id;
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (:movement_id, :brand_id, 'adjustment', :product_id, :site_id, NULL, :q, NULL,
          NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, NULL, :user_id, :now, :now);
COMMIT;
