SELECT o.order_id, o.customer_id, o.product_id, o.store_id, o.ordered_on,
       o.order_month, o.status, coalesce(p.amount, 0) AS amount,
       coalesce(p.payments, 0) AS payments
FROM stg_orders AS o
LEFT JOIN order_payments AS p ON p.order_id = o.order_id
