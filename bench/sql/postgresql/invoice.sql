-- (d) POST /invoices with 5 lines of 1 unit each (5 different products, one from each fifth
-- of the catalogue, so their ids ascend i1 < … < i5: that is the key order), as the API issues
-- it with its caches warm (no token or site queries): the 5 products (ids, location-aware,
-- cost — the cost becomes each sale's unit_cost); the ledger's several-levels path: lock the
-- 5 levels in key order (one 5-row no-op upsert, returning the locked quantities), no
-- allow-negative look (100,000 units at the shop never go short), one
-- 5-row upsert applying the −1s; the 5 sale movements as one pipelined executemany
-- (asyncpg); the 5 levels' checkpoints of the day (stock_level_days, for as-of reads); the
-- invoice; its 5 lines in one multi-row INSERT.
\set band :products / 5
\set i1 random(1, :band)
\set i2 :band + random(1, :band)
\set i3 2 * :band + random(1, :band)
\set i4 3 * :band + random(1, :band)
\set i5 4 * :band + random(1, :band)
\set invoice_no random(1, 281474976710655)
BEGIN;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id
   AND products.id IN (bench_product(:i1), bench_product(:i2), bench_product(:i3), bench_product(:i4), bench_product(:i5));
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i1), :site_id, 0, 0, now()),
         (:brand_id, bench_product(:i2), :site_id, 0, 0, now()),
         (:brand_id, bench_product(:i3), :site_id, 0, 0, now()),
         (:brand_id, bench_product(:i4), :site_id, 0, 0, now()),
         (:brand_id, bench_product(:i5), :site_id, 0, 0, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id) DO UPDATE SET on_hand = stock_levels.on_hand
  RETURNING stock_levels.product_id, stock_levels.site_id, stock_levels.location_id, stock_levels.on_hand;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i1), :site_id, 0, -1, now()),
         (:brand_id, bench_product(:i2), :site_id, 0, -1, now()),
         (:brand_id, bench_product(:i3), :site_id, 0, -1, now()),
         (:brand_id, bench_product(:i4), :site_id, 0, -1, now()),
         (:brand_id, bench_product(:i5), :site_id, 0, -1, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand), updated_at = excluded.updated_at
  RETURNING stock_levels.on_hand;
UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand - 1
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
    AND site_shortfalls.product_id IN (bench_product(:i1), bench_product(:i2), bench_product(:i3),
                                       bench_product(:i4), bench_product(:i5));
\startpipeline
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:i1), :site_id, NULL, -1, NULL,
          NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now());
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:i2), :site_id, NULL, -1, NULL,
          NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now());
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:i3), :site_id, NULL, -1, NULL,
          NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now());
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:i4), :site_id, NULL, -1, NULL,
          NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now());
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
       destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
       purchase_id, unit_cost, user_id, created_at, occurred_at)
  VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:i5), :site_id, NULL, -1, NULL,
          NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now());
\endpipeline
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES (:brand_id, bench_product(:i1), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1),
         (:brand_id, bench_product(:i2), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1),
         (:brand_id, bench_product(:i3), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1),
         (:brand_id, bench_product(:i4), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1),
         (:brand_id, bench_product(:i5), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity);
INSERT INTO invoices (id, brand_id, site_id, number, status, total, user_id, created_at, voided_at)
  VALUES (bench_invoice(:invoice_no), :brand_id, :site_id, NULL, 'issued', 12.50, :user_id, now(), NULL);
INSERT INTO invoice_lines (id, brand_id, invoice_id, line_no, product_id, quantity, unit_price, location_id)
  VALUES (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 0, bench_product(:i1), 1, 2.50, NULL),
         (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 1, bench_product(:i2), 1, 2.50, NULL),
         (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 2, bench_product(:i3), 1, 2.50, NULL),
         (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 3, bench_product(:i4), 1, 2.50, NULL),
         (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 4, bench_product(:i5), 1, 2.50, NULL);
COMMIT;
