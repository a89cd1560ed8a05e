-- (e) on SQLite: the movements report for one product over 30 days (count and page 1).
BEGIN;
SELECT api_tokens.token_hash, users.id, users.brand_id, users.role, users.default_site_id, user_sites.site_id
  FROM api_tokens JOIN users ON users.id = api_tokens.user_id
  LEFT OUTER JOIN user_sites ON user_sites.user_id = users.id AND user_sites.brand_id = users.brand_id
  WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL;
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = :product_id;
SELECT count(*) AS count_1 FROM (SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.unit_cost, stock_movements.user_id, stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = :product_id
    AND stock_movements.created_at >= :range_start AND stock_movements.created_at < :range_end) AS anon_1;
SELECT stock_movements.id, stock_movements.brand_id, stock_movements.type, stock_movements.product_id,
       stock_movements.site_id, stock_movements.location_id, stock_movements.quantity, stock_movements.source_site_id,
       stock_movements.destination_site_id, stock_movements.reference, stock_movements.notes,
       stock_movements.reason_code, stock_movements.reason_description, stock_movements.invoice_id,
       stock_movements.transfer_id, stock_movements.unit_cost, stock_movements.user_id, stock_movements.created_at
  FROM stock_movements
  WHERE stock_movements.brand_id = :brand_id AND stock_movements.product_id = :product_id
    AND stock_movements.created_at >= :range_start AND stock_movements.created_at < :range_end
  ORDER BY stock_movements.created_at DESC, stock_movements.id DESC LIMIT 25 OFFSET 0;
COMMIT;
