-- (e) GET /inventory/products/{id}/stock, as the API issues it with its token cache warm (no
-- auth query): the product check, then its level at every site of the brand with the
-- level's reserved units (expired holds left out) and the units on their way to the site,
-- in one statement. Captured 2026-11-29; the API sends these without BEGIN/COMMIT now
-- (db.session.read_without_transaction), so the script does too.
\set i random(1, :products)
SELECT products.id FROM products WHERE products.brand_id = :brand_id AND products.id = bench_product(:i);
SELECT sites.id, sites.name, stock_levels.location_id, stock_levels.on_hand,
       CASE WHEN (stock_levels.reserved = 0) THEN 0 ELSE stock_levels.reserved - (
         SELECT coalesce(sum(reservation_lines.remaining), 0) FROM reservation_lines
         WHERE reservation_lines.brand_id = stock_levels.brand_id
           AND reservation_lines.product_id = stock_levels.product_id
           AND reservation_lines.site_id = stock_levels.site_id
           AND reservation_lines.location_id = stock_levels.location_id
           AND reservation_lines.active IS true AND reservation_lines.expires_at <= now()) END AS reserved,
       (SELECT CAST(coalesce(sum(transfer_lines.outstanding), 0) AS BIGINT) FROM transfer_lines
         WHERE transfer_lines.brand_id = sites.brand_id AND transfer_lines.product_id = bench_product(:i)
           AND transfer_lines.destination_site_id = sites.id AND transfer_lines.outstanding > 0) AS in_transit
  FROM sites LEFT OUTER JOIN stock_levels ON stock_levels.brand_id = sites.brand_id
   AND stock_levels.site_id = sites.id AND stock_levels.product_id = bench_product(:i)
  WHERE sites.brand_id = :brand_id ORDER BY sites.name, sites.id, stock_levels.location_id;
