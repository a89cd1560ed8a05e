-- (a)/(b) POST /inventory/adjustments {product_id, quantity: ±1, reason_code}: the statements
-- the API issues for it with its per-process caches warm (token → user and site → brand are
-- answered in process, so neither is a query): the product check, the level write (+1: an
-- upsert; −1: the conditional UPDATE that checks the stock in the same statement), the
-- movement with its events in one statement (events/record.py: the movement.created event
-- holding the movement as the API answers it, and stock.low / stock.replenished when the
-- product's available units at the site cross its min_stock), the level's checkpoint of the
-- day (stock_level_days), in one transaction. -D products=N picks among products 1..N (N=1:
-- one hot product).
-- With the product's stored shortfall at the site (site_shortfalls, low stock): the API's
-- rides in its events statement; here it is one more statement (a CTE item where there is a WITH).
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
WITH new_movement AS (
  INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, location_id, quantity, source_site_id,
         destination_site_id, reference, notes, reason_code, reason_description, invoice_id, transfer_id,
         purchase_id, unit_cost, user_id, created_at, occurred_at)
    VALUES (gen_random_uuid(), :brand_id, 'adjustment', bench_product(:i), :site_id, NULL, :q, NULL,
            NULL, NULL, NULL, 'correction', NULL, NULL, NULL, NULL, NULL, :user_id, now(), now())
    RETURNING id, type, product_id, site_id, location_id, quantity, source_site_id, destination_site_id,
              reference, notes, reason_code, reason_description, invoice_id, transfer_id, unit_cost,
              user_id, created_at, purchase_id, occurred_at),
movement AS (SELECT 0 AS ord, 'movement.created' AS type, row_to_json(new_movement) AS data FROM new_movement),
figures AS (
  SELECT p.min_stock, CAST(sum(l.on_hand) AS bigint) AS on_hand, CAST(sum(l.reserved) AS bigint) AS reserved
    FROM products AS p JOIN stock_levels AS l
      ON l.brand_id = p.brand_id AND l.product_id = p.id AND l.site_id = :site_id
    WHERE p.brand_id = :brand_id AND p.id = bench_product(:i)
    GROUP BY p.min_stock),
crossed AS (
  SELECT 1 AS ord,
         CASE WHEN on_hand - reserved < min_stock THEN 'stock.low' ELSE 'stock.replenished' END AS type,
         json_build_object('product_id', CAST(bench_product(:i) AS text), 'site_id', CAST(:site_id AS text),
                           'min_stock', min_stock, 'on_hand', on_hand, 'reserved', reserved,
                           'available', on_hand - reserved, 'previous_available', on_hand - reserved - :q) AS data
    FROM figures
    WHERE (on_hand - reserved - :q >= min_stock) <> (on_hand - reserved >= min_stock))
INSERT INTO events (brand_id, id, type, data, created_at)
  SELECT :brand_id, gen_random_uuid(), type, data, now()
  FROM (SELECT * FROM movement UNION ALL SELECT * FROM crossed) AS e ORDER BY ord;
INSERT INTO stock_level_days (brand_id, product_id, site_id, location_id, day, quantity)
  VALUES (:brand_id, bench_product(:i), :site_id, 0, (now() AT TIME ZONE 'UTC')::date, :q)
  ON CONFLICT (brand_id, product_id, site_id, location_id, day)
  DO UPDATE SET quantity = (stock_level_days.quantity + excluded.quantity);
COMMIT;
