-- Fuzzy search on character names (e.g. name % 'gandalf').
CREATE INDEX characters_name_trgm_idx ON characters USING gin (name gin_trgm_ops);
