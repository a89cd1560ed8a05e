-- (d) POST /invoices with 5 lines of 1 unit each (5 different products, in key order):
-- auth, site, the 5 products, a conditional −1 per level, the 5 sale movements, the
-- invoice and its 5 lines.
\set band :products / 5
\set i1 random(1, :band)
\set i2 :band + random(1, :band)
\set i3 2 * :band + random(1, :band)
\set i4 3 * :band + random(1, :band)
\set i5 4 * :band + random(1, :band)
BEGIN;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT sites.id, sites.brand_id, sites.name, sites.allow_negative_stock, sites.created_at
  FROM sites WHERE sites.brand_id = :brand_id AND sites.id = :site_id;
SELECT products.id, products.brand_id, products.sku, products.name, products.unit, products.min_stock,
       products.location_aware, products.cost_per_unit, products.archived, products.created_at, products.updated_at
  FROM products WHERE products.brand_id = :brand_id
   AND products.id IN (bench_product(:i1), bench_product(:i2), bench_product(:i3), bench_product(:i4), bench_product(:i5));
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i1)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i2)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i3)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i4)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
UPDATE stock_levels SET on_hand = stock_levels.on_hand - 1, updated_at = now()
  WHERE stock_levels.brand_id = :brand_id AND stock_levels.product_id = bench_product(:i5)
    AND stock_levels.site_id = :site_id AND stock_levels.location_id = 0
    AND (stock_levels.on_hand - 1 >= 0
         OR (SELECT sites.allow_negative_stock FROM sites
             WHERE sites.id = :site_id AND sites.brand_id = :brand_id) IS true)
  RETURNING stock_levels.on_hand;
\set invoice_no random(1, 281474976710655)
INSERT INTO stock_movements (id, brand_id, type, product_id, site_id, quantity, invoice_id, unit_cost, user_id, created_at)
  SELECT gen_random_uuid(), :brand_id, 'sale', bench_product(i), :site_id, -1,
         bench_invoice(:invoice_no), 2.5, :user_id, now()
  FROM unnest(ARRAY[:i1, :i2, :i3, :i4, :i5]::int[]) AS i;
INSERT INTO invoices (id, brand_id, site_id, number, status, total, user_id, created_at)
  VALUES (bench_invoice(:invoice_no), :brand_id, :site_id, NULL, 'issued', 12.5, :user_id, now());
INSERT INTO invoice_lines (id, brand_id, invoice_id, line_no, product_id, quantity, unit_price, location_id)
  SELECT gen_random_uuid(), :brand_id, bench_invoice(:invoice_no), n - 1, bench_product(i), 1, 2.5, NULL
  FROM unnest(ARRAY[:i1, :i2, :i3, :i4, :i5]::int[]) WITH ORDINALITY AS line (i, n);
COMMIT;
