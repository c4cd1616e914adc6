DROP INDEX IF EXISTS characters_name_trgm_idx;
