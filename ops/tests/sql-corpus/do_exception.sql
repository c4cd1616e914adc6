-- The idempotent-constraint idiom: ADD CONSTRAINT has no IF NOT EXISTS.
DO $do$
BEGIN
    ALTER TABLE characters
        ADD CONSTRAINT characters_location_fk
        FOREIGN KEY (location_id) REFERENCES locations (id) ON DELETE SET NULL;
EXCEPTION
    WHEN duplicate_object THEN NULL;
END
$do$;
-- Dynamic SQL stays unseen: the statement is a string.
DO $$ BEGIN EXECUTE format('CREATE TABLE %I (id int)', 'shadow_' || 'log'); END $$;
