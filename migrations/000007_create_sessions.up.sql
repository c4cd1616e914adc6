-- Live connections of characters to the game.
CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    character_id bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    client_addr  inet,
    connected_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_character_id_idx ON sessions (character_id);
