-- Characters stand in a location; a removed location leaves them nowhere.
ALTER TABLE characters
    ADD CONSTRAINT characters_location_id_fkey
    FOREIGN KEY (location_id) REFERENCES locations (id) ON DELETE SET NULL;
CREATE INDEX characters_location_id_idx ON characters (location_id);
