-- Fan-in of payments per order.
SELECT order_id,
       count(*) AS payments,
       sum(amount) AS amount,
       sum(CASE WHEN method = 'voucher' THEN amount ELSE 0 END) AS voucher_amount
FROM stg_payments
GROUP BY order_id
