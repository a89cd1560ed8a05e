-- (e) on SQLite: a deep keyset page of 100 movements (limit + 1 rows), as the API issues it
-- with its token cache warm (no auth query). SQLAlchemy's SQLite dialect always adds OFFSET.
BEGIN;
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.purchase_id, stock_movements.unit_cost, stock_movements.user_id,
       stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id
    AND (stock_movements.created_at, stock_movements.id) < (:cursor_at, 'ffffffffffffffffffffffffffffffff')
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC
  LIMIT 101 OFFSET 0;
COMMIT;
