-- (e) on SQLite: the movements report for one product over 30 days (page 1 of 25 with its
-- total), as the API issues it with its token cache warm (no auth query): the product
-- check, the count and the page.
BEGIN;
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
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
        WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = :product_id
          AND stock_movements.created_at >= :range_start AND stock_movements.created_at < :range_end) AS anon_1;
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.purchase_id, stock_movements.unit_cost, stock_movements.user_id,
       stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = :product_id
    AND stock_movements.created_at >= :range_start AND stock_movements.created_at < :range_end
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC
  LIMIT 25 OFFSET 0;
COMMIT;
