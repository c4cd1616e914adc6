-- The characters players play; where they stand comes in 000005.
CREATE TABLE characters (
    id          bigserial PRIMARY KEY,
    player_id   bigint NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    location_id bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX characters_player_id_idx ON characters (player_id);
