-- Visits per day (all stores or regions added up), for the conversion rate next to daily.sql. No params.
SELECT CAST(date AS DATE) AS date, SUM(visits) AS visits
FROM traffic
WHERE date IS NOT NULL AND visits IS NOT NULL
GROUP BY CAST(date AS DATE)
ORDER BY date
