THIS IS NOT SQL: golang-migrate never reads this file.
