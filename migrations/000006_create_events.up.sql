-- The append-only event log, read per stream in order.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    stream     text NOT NULL,
    type       text NOT NULL,
    actor_id   bigint REFERENCES characters (id) ON DELETE SET NULL,
    payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_stream_id_idx ON events (stream, id);
