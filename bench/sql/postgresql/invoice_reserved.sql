-- (r2) POST /invoices {reservation_id, lines: [{product_id, quantity: 1, unit_price}]}: one unit
-- of product k sold from seeded reservation k (k ≤ 1,000; each holds 50,000), as the API issues
-- it: the product check; the reservation locked FOR UPDATE and its lines read; the line's
-- remaining and the reservation's updated_at written; the level locked (no-op upsert
-- returning on_hand and reserved: the sold unit is reserved, so it needs only on_hand and no
-- look at expired holds); one upsert applying on_hand −1 and reserved −1; the sale movement
-- with its movement.created event in one statement (available units do not change, so no
-- stock.low / replenished to judge); the level's checkpoint of the day (stock_level_days);
-- the invoice and its line; the reservation.consumed event (written before the reservation's
-- update, as the API does) and the invoice.created event.
\set k random(1, :reservations)
\set invoice_no random(1, 281474976710655)
BEGIN;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:k)
  FOR KEY SHARE OF products;
SELECT reservations.id, reservations.brand_id, reservations.site_id, reservations.status,
       reservations.reference, reservations.notes, reservations.user_id, reservations.expires_at,
       reservations.created_at, reservations.updated_at
  FROM reservations WHERE reservations.brand_id = :brand_id
   AND reservations.id = bench_reservation(:k) FOR UPDATE;
SELECT reservation_lines.id, reservation_lines.brand_id, reservation_lines.reservation_id,
       reservation_lines.line_no, reservation_lines.product_id, reservation_lines.site_id,
       reservation_lines.location_id, reservation_lines.quantity, reservation_lines.remaining,
       reservation_lines.active, reservation_lines.expires_at
  FROM reservation_lines WHERE reservation_lines.brand_id = :brand_id
   AND reservation_lines.reservation_id IN (bench_reservation(:k))
  ORDER BY reservation_lines.reservation_id, reservation_lines.line_no;
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), 'reservation.consumed',
         json_build_object('id', bench_reservation(:k), 'status', 'active', 'site_id', CAST(:site_id AS uuid),
                           'lines', json_build_array(json_build_object('product_id', bench_product(:k),
                              'location_id', NULL, 'quantity', 50000, 'remaining', 49999)),
                           'expires_at', now(), 'reference', NULL, 'notes', NULL,
                           'user_id', CAST(:user_id AS uuid), 'created_at', now(), 'updated_at', now()), now();
UPDATE reservations SET updated_at = now() WHERE reservations.id = bench_reservation(:k);
UPDATE reservation_lines SET remaining = remaining - 1
  WHERE reservation_lines.reservation_id = bench_reservation(:k) AND line_no = 0;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, reserved, updated_at)
  VALUES (:brand_id, bench_product(:k), :site_id, 0, 0, 0, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id) DO UPDATE SET on_hand = stock_levels.on_hand
  RETURNING stock_levels.product_id, stock_levels.site_id, stock_levels.location_id,
            stock_levels.on_hand, stock_levels.reserved;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, reserved, updated_at)
  VALUES (:brand_id, bench_product(:k), :site_id, 0, -1, -1, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand),
                reserved = (stock_levels.reserved + excluded.reserved),
                updated_at = excluded.updated_at;
UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand - 1,
       reserved = site_shortfalls.reserved - 1
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
    AND site_shortfalls.product_id = bench_product(:k);
WITH new_movement AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    VALUES (gen_random_uuid(), :brand_id, 'sale', bench_product(:k), :site_id, NULL, -1, NULL,
            NULL, NULL, NULL, NULL, NULL, bench_invoice(:invoice_no), NULL, NULL, 2.5, :user_id, now(), now())
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at)
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), 'movement.created', row_to_json(new_movement), now() FROM new_movement;
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES (:brand_id, bench_product(:k), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, -1)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity);
INSERT INTO invoices (id, brand_id, site_id, number, status, total, reservation_id, user_id,
       created_at, voided_at)
  VALUES (bench_invoice(:invoice_no), :brand_id, :site_id, NULL, 'issued', 2.50,
          bench_reservation(:k), :user_id, now(), NULL);
INSERT INTO invoice_lines (id, brand_id, invoice_id, line_no, product_id, quantity, unit_price, location_id)
  VALUES (gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), 0, bench_product(:k), 1, 2.50, NULL);
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), 'invoice.created',
         json_build_object('id', bench_invoice(:invoice_no), 'site_id', CAST(:site_id AS uuid), 'number', NULL,
                           'status', 'issued', 'total', '2.5',
                           'lines', json_build_array(json_build_object('product_id', bench_product(:k),
                              'quantity', 1, 'unit_price', '2.5', 'location_id', NULL)),
                           'movements', json_build_array(json_build_object('type', 'sale',
                              'product_id', bench_product(:k), 'site_id', CAST(:site_id AS uuid), 'quantity', -1,
                              'invoice_id', bench_invoice(:invoice_no), 'unit_cost', '2.5',
                              'user_id', CAST(:user_id AS uuid), 'created_at', now()))), now();
COMMIT;
