-- (a) the same work as adjustment.sql in ONE statement (what the bare "one CTE" endpoint
-- sends, bench/bare.py): the product check feeds the level write, which feeds the movement
-- and the level's checkpoint of the day, and the movement's events (movement.created, and
-- stock.low / stock.replenished when the available units cross min_stock: events/record.py;
-- the crossing is judged on the level as this statement leaves it, on_hand + q).
-- With the product's stored shortfall at the site (site_shortfalls, low stock): the API's
-- rides in its events statement; here it is one more statement (a CTE item where there is a WITH).
-- Not what the API issues today: the bar a merged write would be measured against.
\set i random(1, :products)
\set q random(0, 1) * 2 - 1
\if :q > 0
WITH product AS (SELECT id FROM products WHERE brand_id = :brand_id AND id = bench_product(:i)),
level AS (
  INSERT INTO stock_levels (brand_id, product_id, site_id, location_id, on_hand, updated_at)
    SELECT :brand_id, product.id, :site_id, 0, :q, now() FROM product
    ON CONFLICT (brand_id, product_id, site_id, location_id)
    DO UPDATE SET on_hand = (stock_levels.on_hand + excluded.on_hand), updated_at = excluded.updated_at
    RETURNING stock_levels.on_hand),
day AS (
  INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
    SELECT :brand_id, bench_product(:i), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, :q FROM level
    ON CONFLICT (brand_id, product_id, site_id, location_id, day)
    DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity)),
shortfall AS (
  UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + :q FROM level
    WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
      AND site_shortfalls.product_id = bench_product(:i)),
new_movement AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    SELECT gen_random_uuid(), :brand_id, 'adjustment', bench_product(:i), :site_id, NULL, :q, NULL,
           NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, NULL, :user_id, now(), now() FROM level
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at),
figures AS (
  SELECT p.min_stock, CAST(sum(l.on_hand) AS bigint) + :q AS on_hand, CAST(sum(l.reserved) AS bigint) AS reserved
    FROM level, products AS p JOIN stock_levels AS l
      ON l.brand_id = p.brand_id AND l.product_id = p.id AND l.site_id = :site_id
    WHERE p.brand_id = :brand_id AND p.id = bench_product(:i)
    GROUP BY p.min_stock),
new_events AS (
  INSERT INTO events (brand_id, id, type, data, created_at)
    SELECT :brand_id, gen_random_uuid(), type, data, now() FROM (
      SELECT 0 AS ord, 'movement.created' AS type, row_to_json(new_movement) AS data FROM new_movement
      UNION ALL
      SELECT 1, CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END,
             json_build_object('product_id', CAST(bench_product(:i) AS text), 'site_id', CAST(:site_id AS text),
                               'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                               'available', on_hand - reserved, 'previous_available', on_hand - reserved - :q)
        FROM figures
        WHERE (on_hand - reserved - :q >= min_stock) <> (on_hand - reserved >= min_stock)) AS e
    ORDER BY ord)
SELECT id, created_at, (SELECT on_hand FROM level) FROM new_movement;
\else
WITH product AS (SELECT id FROM products WHERE brand_id = :brand_id AND id = bench_product(:i)),
level AS (
  UPDATE stock_levels SET on_hand = (stock_levels.on_hand + :q), updated_at = now()
    WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id IN (SELECT id FROM product)
      AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
      AND (stock_levels.on_hand + :q >= 0
           OR (SELECT sites.allow_negative_stock FROM sites
               WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
    RETURNING stock_levels.on_hand),
day AS (
  INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
    SELECT :brand_id, bench_product(:i), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, :q FROM level
    ON CONFLICT (brand_id, product_id, site_id, location_id, day)
    DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity)),
shortfall AS (
  UPDATE site_shortfalls SET on_hand = site_shortfalls.on_hand + :q FROM level
    WHERE site_shortfalls.brand_id = :brand_id AND site_shortfalls.site_id = :site_id
      AND site_shortfalls.product_id = bench_product(:i)),
new_movement AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    SELECT gen_random_uuid(), :brand_id, 'adjustment', bench_product(:i), :site_id, NULL, :q, NULL,
           NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, NULL, :user_id, now(), now() FROM level
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at),
figures AS (
  SELECT p.min_stock, CAST(sum(l.on_hand) AS bigint) + :q AS on_hand, CAST(sum(l.reserved) AS bigint) AS reserved
    FROM level, products AS p JOIN stock_levels AS l
      ON l.brand_id = p.brand_id AND l.product_id = p.id AND l.site_id = :site_id
    WHERE p.brand_id = :brand_id AND p.id = bench_product(:i)
    GROUP BY p.min_stock),
new_events AS (
  INSERT INTO events (brand_id, id, type, data, created_at)
    SELECT :brand_id, gen_random_uuid(), type, data, now() FROM (
      SELECT 0 AS ord, 'movement.created' AS type, row_to_json(new_movement) AS data FROM new_movement
      UNION ALL
      SELECT 1, CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END,
             json_build_object('product_id', CAST(bench_product(:i) AS text), 'site_id', CAST(:site_id AS text),
                               'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                               'available', on_hand - reserved, 'previous_available', on_hand - reserved - :q)
        FROM figures
        WHERE (on_hand - reserved - :q >= min_stock) <> (on_hand - reserved >= min_stock)) AS e
    ORDER BY ord)
SELECT id, created_at, (SELECT on_hand FROM level) FROM new_movement;
\endif
