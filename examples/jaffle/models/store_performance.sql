SELECT s.store_id, s.name, s.region_id, count(*) AS orders,
       sum(o.amount) AS revenue, avg(o.amount) AS avg_order_value
FROM orders o
JOIN raw_stores s ON s.store_id = o.store_id
GROUP BY s.store_id, s.name, s.region_id
