SELECT customer_id, name, region_id, signed_up_on
FROM raw_customers
