WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
SELECT i AS store_id, 'store_' || i AS name, i % 5 AS region_id FROM n
