-- (e) GET /inventory/movements?cursor=..&limit=100 at a deep position (a random instant in
-- the older half of the ledger), as the API issues it with its token cache warm (no auth
-- query): one row-value keyset query for limit + 1 rows. LIMIT is a bound parameter, as the
-- API sends it (a prepared statement's generic plan does not know it). The plain
-- `created_at <=` is the API's too: it lets PostgreSQL skip the newer month partitions.
\set sec random(0, :deep_seconds)
\set page_limit 101
BEGIN;
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.purchase_id, stock_movements.unit_cost, stock_movements.user_id,
       stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id
    AND stock_movements.created_at <= :deep_from::timestamptz + make_interval(secs => :sec)
    AND (stock_movements.created_at, stock_movements.id)
        < (:deep_from::timestamptz + make_interval(secs => :sec), 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC
  LIMIT :page_limit::integer;
COMMIT;
