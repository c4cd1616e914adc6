CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- a comment inside the body; with a semicolon
    NEW.updated_at := now();
    RETURN NEW;
END;
$fn$;

CREATE TRIGGER characters_updated_at
    BEFORE UPDATE ON characters
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

ALTER TABLE characters ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
