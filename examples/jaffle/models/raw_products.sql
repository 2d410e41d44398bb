WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
SELECT i AS product_id,
       'product_' || i AS name,
       CASE i % 4 WHEN 0 THEN 'coffee' WHEN 1 THEN 'tea' WHEN 2 THEN 'pastry' ELSE 'merch' END AS category,
       ((i * 389) % 1500) + 150 AS price_cents
FROM n
