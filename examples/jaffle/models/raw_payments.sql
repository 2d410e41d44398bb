-- Roughly 1.3 payments per order: every order pays once, every third twice.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
SELECT i AS payment_id,
       CASE WHEN i <= 150000 THEN i ELSE (i - 150000) * 3 END AS order_id,
       CASE i % 4 WHEN 0 THEN 'card' WHEN 1 THEN 'bank' WHEN 2 THEN 'voucher' ELSE 'card' END AS method,
       ((i * 7907) % 20000) + 100 AS amount_cents
FROM n
