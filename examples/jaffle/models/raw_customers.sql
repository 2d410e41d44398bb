-- 12,000 customers, generated (no input files needed).
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
SELECT i AS customer_id,
       'customer_' || i AS name,
       (i * 31) % 5 AS region_id,
       date('2023-01-01', '+' || ((i * 17) % 365) || ' days') AS signed_up_on
FROM n
