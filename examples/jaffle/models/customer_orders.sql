SELECT customer_id,
       count(*) AS orders,
       min(ordered_on) AS first_order_on,
       max(ordered_on) AS last_order_on,
       sum(amount) AS lifetime_value
FROM orders
WHERE status = 'completed'
GROUP BY customer_id
