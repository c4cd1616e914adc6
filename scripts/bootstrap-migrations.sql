-- Bootstrap an existing HoloMUSH database into golang-migrate: checks that every object
-- the embedded migrations create is already there, then marks version 9 (the latest,
-- 000009_characters_name_trgm) as applied and clean, without running any migration.
--
--     psql -d holomush -f scripts/bootstrap-migrations.sql
--
-- If anything is missing it aborts with the list and changes nothing: the check and the
-- version write are one statement (one transaction), so this holds with or without
-- psql's ON_ERROR_STOP (which the first line turns on, so psql exits non-zero). `holomush-admin migrate bootstrap` runs this same file.
-- When a migration is added, add its objects below and raise the version.

\set ON_ERROR_STOP on
CREATE TEMP TABLE IF NOT EXISTS bootstrap_checked (ord int, kind text, name text);
TRUNCATE bootstrap_checked;
INSERT INTO bootstrap_checked (ord, kind, name) VALUES
    (1,  'extension',  'pg_trgm'),
    (2,  'table',      'players'),
    (3,  'table',      'locations'),
    (4,  'index',      'locations_parent_id_idx'),
    (5,  'table',      'characters'),
    (6,  'index',      'characters_player_id_idx'),
    (7,  'constraint', 'characters_location_id_fkey'),
    (8,  'index',      'characters_location_id_idx'),
    (9,  'table',      'events'),
    (10, 'index',      'events_stream_id_idx'),
    (11, 'table',      'sessions'),
    (12, 'index',      'sessions_character_id_idx'),
    (13, 'table',      'system_info'),
    (14, 'index',      'characters_name_trgm_idx');

DO $bootstrap$
DECLARE
    latest  constant bigint := 9;
    missing text[] := '{}';
    checked text[] := '{}';
    o record;
    present boolean;
BEGIN
    FOR o IN SELECT kind, name FROM pg_temp.bootstrap_checked ORDER BY ord LOOP
        present := CASE o.kind
            WHEN 'extension' THEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = o.name)
            WHEN 'table' THEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                      WHERE c.relname = o.name AND c.relkind IN ('r', 'p') AND n.nspname = current_schema())
            WHEN 'index' THEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                      WHERE c.relname = o.name AND c.relkind IN ('i', 'I') AND n.nspname = current_schema())
            WHEN 'constraint' THEN EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
                                           WHERE k.conname = o.name AND n.nspname = current_schema())
        END;
        IF present THEN
            checked := checked || (o.kind || ' ' || o.name);
        ELSE
            missing := missing || (o.kind || ' ' || o.name);
        END IF;
    END LOOP;

    IF cardinality(missing) > 0 THEN
        RAISE EXCEPTION 'bootstrap aborted: these objects of the HoloMUSH schema are missing: %. Nothing was changed. Run the migrations instead (holomush-admin migrate up), or create the missing objects first.',
            array_to_string(missing, ', ');
    END IF;

    -- golang-migrate's table, created only when information_schema does not show it.
    IF NOT EXISTS (SELECT 1 FROM information_schema.tables
                   WHERE table_schema = current_schema() AND table_name = 'schema_migrations') THEN
        CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
    END IF;
    TRUNCATE schema_migrations;
    INSERT INTO schema_migrations (version, dirty) VALUES (latest, false);

    RAISE NOTICE 'bootstrap: all % objects present (%); schema_migrations now says version %, clean.',
        cardinality(checked), array_to_string(checked, ', '), latest;
END
$bootstrap$;
