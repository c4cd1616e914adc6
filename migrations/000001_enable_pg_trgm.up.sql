-- Fuzzy name search needs the trigram extension (PostgreSQL contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
