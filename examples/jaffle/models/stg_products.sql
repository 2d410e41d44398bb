SELECT product_id, name, category, price_cents / 100.0 AS price
FROM raw_products
