-- An enum created only when missing: PostgreSQL has no CREATE TYPE IF NOT EXISTS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'presence') THEN
        CREATE TYPE presence AS ENUM ('online', 'idle', 'offline');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS sessions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    player_id  bigint NOT NULL,
    state      presence NOT NULL DEFAULT 'online',
    note       text DEFAULT 'a; b'
);
