-- +goose NO TRANSACTION
-- Built without locking writes; cannot run inside a transaction.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_objects_name_trgm
    ON objects USING gin (name gin_trgm_ops);
DROP INDEX CONCURRENTLY IF EXISTS idx_objects_name_old;
