SELECT p.product_id, p.name, p.category, count(*) AS units,
       sum(o.amount) AS revenue
FROM orders o
JOIN stg_products p ON p.product_id = o.product_id
WHERE o.status = 'completed'
GROUP BY p.product_id, p.name, p.category
