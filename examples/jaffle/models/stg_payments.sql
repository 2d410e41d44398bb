SELECT payment_id, order_id, method, amount_cents / 100.0 AS amount
FROM raw_payments
