DROP INDEX IF EXISTS characters_location_id_idx;
ALTER TABLE characters DROP CONSTRAINT IF EXISTS characters_location_id_fkey;
