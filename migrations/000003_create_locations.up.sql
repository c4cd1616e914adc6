-- Rooms and areas; a location may sit inside another.
CREATE TABLE locations (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    parent_id   bigint REFERENCES locations (id) ON DELETE SET NULL,
    owner_id    bigint REFERENCES players (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_parent_id_idx ON locations (parent_id);
