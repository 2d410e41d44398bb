-- The top of the DAG: fan-in from three marts.
SELECT (SELECT sum(revenue) FROM daily_revenue) AS revenue,
       (SELECT count(*) FROM customers WHERE orders > 0) AS active_customers,
       (SELECT name FROM product_sales ORDER BY revenue DESC LIMIT 1) AS top_product,
       (SELECT count(*) FROM customer_segments) AS segments
