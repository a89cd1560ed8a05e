-- (a) on SQLite, quantity +1: what the API issues with its per-process caches warm (token →
-- user and site → brand answered in process, so neither is a query): BEGIN IMMEDIATE, as its
-- writers do; the product check; the level upsert; the product's stored shortfall at the
-- site (the data set has a row for every product and site); the movement.
BEGIN IMMEDIATE;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, :product_id, :site_id, 0, :q, :now)
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand), updated_at = excluded.updated_at
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
