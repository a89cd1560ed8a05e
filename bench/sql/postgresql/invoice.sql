-- (d) POST /invoices with 5 lines of 1 unit each (5 different products, one from each fifth
-- of the catalogue, so their ids ascend i1 < … < i5: that is the key order), as the API issues
-- it with its caches warm (no token or site queries): the 5 products (ids, location-aware,
-- cost — the cost becomes each sale's unit_cost); the ledger's several-levels path: lock the
-- 5 levels in key order (one 5-row no-op upsert, returning the locked quantities), no
-- allow-negative look (100,000 units at the shop never go short), one
-- 5-row upsert applying the −1s; the 5 sale movements with their events in one statement (a
-- movement.created each, and stock.low / stock.replenished for a product whose available
-- units at the shop cross min_stock: events/record.py); the 5 levels' checkpoints of the day
-- (stock_level_days, for as-of reads); the invoice; its 5 lines in one multi-row INSERT; its
-- invoice.created event.
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
WITH new_movements AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    VALUES
           (gen_random_uuid(), :brand_id, 'sale', bench_product(:i1), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now()),
           (gen_random_uuid(), :brand_id, 'sale', bench_product(:i2), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now()),
           (gen_random_uuid(), :brand_id, 'sale', bench_product(:i3), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now()),
           (gen_random_uuid(), :brand_id, 'sale', bench_product(:i4), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now()),
           (gen_random_uuid(), :brand_id, 'sale', bench_product(:i5), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now())
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at),
movement AS (
  SELECT row_number() OVER () AS ord, 'movement.created' AS type, row_to_json(m) AS data
    FROM new_movements AS m),
moved(ord, product_id) AS (VALUES (6, bench_product(:i1)), (7, bench_product(:i2)), (8, bench_product(:i3)), (9, bench_product(:i4)), (10, bench_product(:i5))),
figures AS (
  SELECT m.ord, m.product_id, p.min_stock, CAST(sum(l.on_hand) AS bigint) AS on_hand,
         CAST(sum(l.reserved) AS bigint) AS reserved
    FROM moved AS m
    JOIN products AS p ON p.brand_id = :brand_id AND p.id = m.product_id
    JOIN stock_levels AS l ON l.brand_id = :brand_id AND l.product_id = m.product_id AND l.site_id = :site_id
    GROUP BY m.ord, m.product_id, p.min_stock),
crossed AS (
  SELECT ord,
         CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END AS type,
         json_build_object('product_id', CAST(product_id AS text), 'site_id', CAST(:site_id AS text),
                           'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                           'available', on_hand - reserved, 'previous_available', on_hand - reserved + 1) AS data
    FROM figures
    WHERE (on_hand - reserved + 1 >= min_stock) <> (on_hand - reserved >= min_stock))
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), type, data, now()
  FROM (SELECT * FROM movement UNION ALL SELECT * FROM crossed) AS e ORDER BY ord;
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
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), 'invoice.created',
         json_build_object('id', bench_invoice(:invoice_no), 'site_id', CAST(:site_id AS uuid), 'number', NULL,
                           'status', 'issued', 'total', '12.5',
                           'lines', json_build_array(json_build_object('product_id', bench_product(:i1), 'quantity', 1, 'unit_price', '2.5', 'location_id', NULL), json_build_object('product_id', bench_product(:i2), 'quantity', 1, 'unit_price', '2.5', 'location_id', NULL), json_build_object('product_id', bench_product(:i3), 'quantity', 1, 'unit_price', '2.5', 'location_id', NULL), json_build_object('product_id', bench_product(:i4), 'quantity', 1, 'unit_price', '2.5', 'location_id', NULL), json_build_object('product_id', bench_product(:i5), 'quantity', 1, 'unit_price', '2.5', 'location_id', NULL)),
                           'movements', json_build_array(json_build_object('type', 'sale', 'product_id', bench_product(:i1), 'site_id', CAST(:site_id AS uuid), 'quantity', -1, 'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5', 'user_id', CAST(:user_id AS uuid), 'created_at', now()), json_build_object('type', 'sale', 'product_id', bench_product(:i2), 'site_id', CAST(:site_id AS uuid), 'quantity', -1, 'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5', 'user_id', CAST(:user_id AS uuid), 'created_at', now()), json_build_object('type', 'sale', 'product_id', bench_product(:i3), 'site_id', CAST(:site_id AS uuid), 'quantity', -1, 'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5', 'user_id', CAST(:user_id AS uuid), 'created_at', now()), json_build_object('type', 'sale', 'product_id', bench_product(:i4), 'site_id', CAST(:site_id AS uuid), 'quantity', -1, 'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5', 'user_id', CAST(:user_id AS uuid), 'created_at', now()), json_build_object('type', 'sale', 'product_id', bench_product(:i5), 'site_id', CAST(:site_id AS uuid), 'quantity', -1, 'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5', 'user_id', CAST(:user_id AS uuid), 'created_at', now()))), now();
COMMIT;
