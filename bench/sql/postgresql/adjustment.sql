-- (a)/(b) POST /inventory/adjustments {product_id, quantity: ±1, reason_code}: the statements
-- the API issues for it with its per-process caches warm (token → user and site → brand are
-- answered in process, so neither is a query): the product check, the level write (+1: an
-- upsert; −1: the conditional UPDATE that checks the stock in the same statement), the
-- movement, the level's checkpoint of the day (stock_level_days) and the product's stored
-- shortfall at the site (site_shortfalls: the API's rides in its events statement; the data
-- set has a row for every product and site, so an UPDATE), in one transaction. Not
-- here yet: the event row the writer's event hook adds (being reworked; re-capture after). -D products=N picks among products 1..N (N=1: one hot product).
\set i random(1, :products)
\set q random(0, 1) * 2 - 1
BEGIN;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i);
\if :q > 0
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i), :site_id, 0, :q, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand), updated_at = excluded.updated_at
  RETURNING stock_levels.on_hand;
\else
UPDATE stock_levels SET on_hand = (stock_levels.on_hand + :q), updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand + :q >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
\endif
UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + :q
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
    AND site_shortfalls.product_id = bench_product(:i);
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'adjustment', bench_product(:i), :site_id, NULL, :q, NULL,
          NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, NULL, :user_id, now(), now());
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES (:brand_id, bench_product(:i), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, :q)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity);
COMMIT;
