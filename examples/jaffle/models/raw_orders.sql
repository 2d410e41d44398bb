-- 150,000 orders spread over 2024 across customers, products and stores.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000)
SELECT i AS order_id,
       (i * 7919) % 12000 + 1 AS customer_id,
       (i * 104729) % 200 + 1 AS product_id,
       (i * 13) % 20 + 1 AS store_id,
       date('2024-01-01', '+' || ((i * 37) % 366) || ' days') AS ordered_on,
       CASE i % 10 WHEN 0 THEN 'returned' WHEN 1 THEN 'pending' ELSE 'completed' END AS status
FROM n
