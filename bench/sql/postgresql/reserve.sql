-- (r1) POST /inventory/reservations {lines: [{product_id, quantity: 1}], ttl_seconds: 60} on a
-- random product of the shop, as the API issues it with its caches warm: the product check
-- (FOR KEY SHARE), the one conditional UPDATE of the level's reserved units (available =
-- on_hand − reserved suffices), the crossing look (events/record.py: stock.low when the
-- product's available units at the shop fall below min_stock), the reservation and its line,
-- and its reservation.created event.
\set i random(1, :products)
\set r random(1, 281474976710655)
BEGIN;
SELECT products.id, products.location_aware, products.cost_per_unit
  FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i)
  FOR KEY SHARE OF products;
UPDATE stock_levels SET reserved = (stock_levels.reserved + 1), updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND stock_levels.on_hand - stock_levels.reserved >= 1
  RETURNING stock_levels.reserved;
UPDATE site_shortfalls SET reserved = site_shortfalls.reserved + 1
  WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
    AND site_shortfalls.product_id = bench_product(:i);
WITH figures AS (
  SELECT p.min_stock, CAST(sum(l.on_hand) AS bigint) AS on_hand, CAST(sum(l.reserved) AS bigint) AS reserved
    FROM products AS p JOIN stock_levels AS l
      ON l.brand_id = p.brand_id AND l.product_id = p.id AND l.site_id = :site_id
    WHERE p.brand_id = :brand_id AND p.id = bench_product(:i)
    GROUP BY p.min_stock)
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(),
         CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END,
         json_build_object('product_id', CAST(bench_product(:i) AS text), 'site_id', CAST(:site_id AS text),
                           'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                           'available', on_hand - reserved, 'previous_available', on_hand - reserved + 1),
         now()
    FROM figures
    WHERE (on_hand - reserved + 1 >= min_stock) <> (on_hand - reserved >= min_stock);
INSERT INTO reservations (id, brand_id, site_id, status, reference, notes, user_id, expires_at,
       created_at, updated_at)
  VALUES (bench_invoice(:r), :brand_id, :site_id, 'active', NULL, NULL, :user_id,
          now() + interval '60 seconds', now(), now());
INSERT INTO reservation_lines (id, brand_id, reservation_id, line_no, product_id, site_id,
       location_id, quantity, remaining, active, expires_at)
  VALUES (gen_random_uuid(), :brand_id, bench_invoice(:r), 0, bench_product(:i), :site_id, 0,
          1, 1, true, now() + interval '60 seconds');
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), 'reservation.created',
         json_build_object('id', bench_invoice(:r), 'status', 'active', 'site_id', CAST(:site_id AS uuid),
                           'lines', json_build_array(json_build_object('product_id', bench_product(:i),
                              'location_id', NULL, 'quantity', 1, 'remaining', 1)),
                           'expires_at', now() + interval '60 seconds', 'reference', NULL, 'notes', NULL,
                           'user_id', CAST(:user_id AS uuid), 'created_at', now(), 'updated_at', now()), now();
COMMIT;
