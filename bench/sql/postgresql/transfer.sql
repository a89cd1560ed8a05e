-- (c) POST /inventory/transfers {product_id, destination_site_id, quantity: 1} from the shop
-- to the warehouse, as the API issues it with its caches warm (no token or site queries):
-- the product check; then the ledger's several-levels path: lock both levels in sorted key
-- order (one two-row no-op upsert, returning the locked quantities), no allow-negative look (the shop's 100,000 units never go short), one two-row upsert that
-- applies −1 and +1, the two halves of the ledger with their events in one statement (a
-- movement.created each, and stock.low / stock.replenished for a (product, site) whose
-- available units cross min_stock: events/record.py), the two levels' checkpoints of the day
-- (stock_level_days, for as-of reads), the transfer's row and its line, and its
-- transfer.shipped and transfer.received events (one INSERT of two rows).
-- Key order is the site id's order (same product): least()/greatest() of the two site ids.
\set i random(1, :products)
\set transfer_no random(1, 281474976710655)
BEGIN;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i);
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i), least(:site_id::uuid, :dest_site_id::uuid), 0, 0, now()),
         (:brand_id, bench_product(:i), greatest(:site_id::uuid, :dest_site_id::uuid), 0, 0, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id) DO UPDATE SET on_hand = stock_levels.on_hand
  RETURNING stock_levels.product_id, stock_levels.site_id, stock_levels.location_id, stock_levels.on_hand;
INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
  VALUES (:brand_id, bench_product(:i), least(:site_id::uuid, :dest_site_id::uuid), 0,
          CASE WHEN :site_id::uuid < :dest_site_id::uuid THEN -1 ELSE 1 END, now()),
         (:brand_id, bench_product(:i), greatest(:site_id::uuid, :dest_site_id::uuid), 0,
          CASE WHEN :site_id::uuid < :dest_site_id::uuid THEN 1 ELSE -1 END, now())
  ON CONFLICT (brand_id, product_id, site_id, location_id)
  DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand), updated_at = excluded.updated_at
  RETURNING stock_levels.on_hand;
UPDATE site_shortfalls
  SET on_hand = site_shortfalls.on_hand + CASE WHEN site_shortfalls.site_id = :site_id::uuid THEN -1 ELSE 1 END
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.product_id = bench_product(:i)
    AND site_shortfalls.site_id IN (:site_id::uuid, :dest_site_id::uuid);
WITH new_movements AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    VALUES (gen_random_uuid(), :brand_id, 'transfer_out', bench_product(:i), :site_id, NULL, -1, :site_id,
            :dest_site_id, NULL, NULL, NULL, NULL, NULL, ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid, NULL, NULL, :user_id, now(), now()),
           (gen_random_uuid(), :brand_id, 'transfer_in', bench_product(:i), :dest_site_id, NULL, 1, :site_id,
            :dest_site_id, NULL, NULL, NULL, NULL, NULL, ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid, NULL, NULL, :user_id, now(), now())
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at),
movement AS (
  SELECT CASE WHEN m.type = 'transfer_out' THEN 1 ELSE 2 END AS ord, 'movement.created' AS type,
         row_to_json(m) AS data
    FROM new_movements AS m),
moved(ord, site_id, delta) AS (VALUES (3, :site_id::uuid, -1), (4, :dest_site_id::uuid, 1)),
figures AS (
  SELECT m.ord, m.site_id, m.delta, p.min_stock, CAST(sum(l.on_hand) AS bigint) AS on_hand,
         CAST(sum(l.reserved) AS bigint) AS reserved
    FROM moved AS m
    JOIN products AS p ON p.brand_id = :brand_id AND p.id = bench_product(:i)
    JOIN stock_levels AS l ON l.brand_id = :brand_id AND l.product_id = p.id AND l.site_id = m.site_id
    GROUP BY m.ord, m.site_id, m.delta, p.min_stock),
crossed AS (
  SELECT ord,
         CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END AS type,
         json_build_object('product_id', CAST(bench_product(:i) AS text), 'site_id', CAST(site_id AS text),
                           'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                           'available', on_hand - reserved, 'previous_available', on_hand - reserved - delta) AS data
    FROM figures
    WHERE (on_hand - reserved - delta >= min_stock) <> (on_hand - reserved >= min_stock))
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), type, data, now()
  FROM (SELECT * FROM movement UNION ALL SELECT * FROM crossed) AS e ORDER BY ord;
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES (:brand_id, bench_product(:i), least(:site_id::uuid, :dest_site_id::uuid), 0, (now() AT TIME ZONE 'UTC')::date,
          CASE WHEN :site_id::uuid < :dest_site_id::uuid THEN -1 ELSE 1 END),
         (:brand_id, bench_product(:i), greatest(:site_id::uuid, :dest_site_id::uuid), 0, (now() AT TIME ZONE 'UTC')::date,
          CASE WHEN :site_id::uuid < :dest_site_id::uuid THEN 1 ELSE -1 END)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity);
INSERT INTO transfers (brand_id, id, source_site_id, destination_site_id, status, reference, notes,
       user_id, created_at, updated_at)
  VALUES (:brand_id, ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid, :site_id, :dest_site_id, 'completed', NULL, NULL, :user_id, now(), now());
INSERT INTO transfer_lines (brand_id, id, transfer_id, product_id, destination_site_id, source_location_id,
       destination_location_id, shipped, received, outstanding, written_off, returned)
  VALUES (:brand_id, gen_random_uuid(), ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid, bench_product(:i), :dest_site_id, NULL, NULL, 1, 1, 0, 0, 0);
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), e.type,
         json_build_object('transfer_id', ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid, 'status', 'completed',
                           'transfer_out', m.data, 'transfer_in', m.data), now()
  FROM (VALUES ('transfer.shipped'), ('transfer.received')) AS e(type),
       (SELECT row_to_json(s) AS data FROM (SELECT ('00000000-0000-4000-b000-' || lpad(to_hex(:transfer_no::bigint), 12, '0'))::uuid AS id, CAST(:site_id AS uuid) AS source_site_id,
               CAST(:dest_site_id AS uuid) AS destination_site_id, bench_product(:i) AS product_id, 1 AS quantity,
               now() AS created_at) AS s) AS m;
COMMIT;
