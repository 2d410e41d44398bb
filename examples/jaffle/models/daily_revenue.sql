SELECT ordered_on AS day, count(*) AS orders, sum(amount) AS revenue
FROM orders
WHERE status = 'completed'
GROUP BY ordered_on
