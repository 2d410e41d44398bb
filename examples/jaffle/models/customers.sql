SELECT c.customer_id, c.name, c.region_id, c.signed_up_on,
       coalesce(co.orders, 0) AS orders, co.first_order_on, co.last_order_on,
       coalesce(co.lifetime_value, 0) AS lifetime_value
FROM stg_customers c
LEFT JOIN customer_orders co ON co.customer_id = c.customer_id
