SELECT CASE WHEN lifetime_value >= 1500 THEN 'gold'
            WHEN lifetime_value >= 900 THEN 'silver'
            ELSE 'bronze' END AS segment,
       count(*) AS customers,
       avg(lifetime_value) AS avg_lifetime_value
FROM customers
GROUP BY 1
