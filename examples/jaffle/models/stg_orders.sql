SELECT order_id, customer_id, product_id, store_id, ordered_on, status,
       strftime('%Y-%m', ordered_on) AS order_month
FROM raw_orders
WHERE status <> 'pending'
