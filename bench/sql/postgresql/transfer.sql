-- (c) POST /inventory/transfers {product_id, destination_site_id, quantity: 1} from the shop
-- to the warehouse: auth, both sites, the product, −1 at the source (conditional) and +1 at
-- the destination (upsert) in key order, then both halves of the ledger in one INSERT.
\set i random(1, :products)
BEGIN;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT sites.id, sites.brand_id, sites.name, sites.allow_negative_stock, sites.created_at
  FROM sites WHERE sites.brand_id = :brand_id AND sites.id = :site_id;
SELECT sites.id, sites.brand_id, sites.name, sites.allow_negative_stock, sites.created_at
  FROM sites WHERE sites.brand_id = :brand_id AND sites.id = :dest_site_id;
SELECT products.id, products.brand_id, products.sku, products.name, products.unit, products.min_stock,
       products.location_aware, products.cost_per_unit, products.archived, products.created_at, products.updated_at
  FROM products WHERE products.brand_id = :brand_id AND products.id IN (bench_product(:i));
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i), :dest_site_id, 0, 1, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = stock_levels.on_hand + excluded.on_hand, updated_at = now()
  RETURNING stock_levels.on_hand;
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, transfer_id, user_id, created_at)
  SELECT gen_random_uuid(), :brand_id, half.type, bench_product(:i), half.site_id, NULL, half.quantity,
         :site_id, :dest_site_id, t.id, :user_id, now()
  FROM (SELECT gen_random_uuid() AS id) AS t,
       (VALUES ('transfer_out', :site_id::uuid, -1), ('transfer_in', :dest_site_id::uuid, 1))
         AS half (type, site_id, quantity);
COMMIT;
