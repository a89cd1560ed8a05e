-- (e) GET /inventory/movements?product_id=..&start_date=..&end_date=.. (30 days, page 1 of
-- 25 with its total), as the API issues it with its token cache warm (no auth query): the
-- product check, the count and the page. LIMIT/OFFSET are bound parameters, as the API
-- sends them (a prepared statement's generic plan does not know them). No BEGIN/COMMIT: the
-- API sends none for this read now (db.session.read_without_transaction).
\set i random(1, :products)
\set per_page 25
\set page_offset 0
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i);
SELECT count(*) AS count_1
  FROM (SELECT stock_movements.id AS id, stock_movements.brand_id AS brand_id, stock_movements.type AS type,
               stock_movements.product_id AS product_id, stock_movements.site_id AS site_id,
               stock_movements.location_id AS location_id, stock_movements.quantity AS quantity,
               stock_movements.source_site_id AS source_site_id,
               stock_movements.destination_site_id AS destination_site_id,
               stock_movements.reference AS reference, stock_movements.notes AS notes,
               stock_movements.reason_code AS reason_code,
               stock_movements.reason_description AS reason_description,
               stock_movements.invoice_id AS invoice_id, stock_movements.transfer_id AS transfer_id,
               stock_movements.purchase_id AS purchase_id, stock_movements.unit_cost AS unit_cost,
               stock_movements.user_id AS user_id, stock_movements.created_at AS created_at
        FROM stock_movements
        WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = bench_product(:i)
          AND stock_movements.created_at >= :range_start::timestamptz
          AND stock_movements.created_at < :range_end::timestamptz) AS anon_1;
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.purchase_id, stock_movements.unit_cost, stock_movements.user_id,
       stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = bench_product(:i)
    AND stock_movements.created_at >= :range_start::timestamptz
    AND stock_movements.created_at < :range_end::timestamptz
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC
  LIMIT :per_page::integer OFFSET :page_offset::integer;
