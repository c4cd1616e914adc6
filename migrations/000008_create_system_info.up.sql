-- Key/value facts about this installation.
CREATE TABLE system_info (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO system_info (key, value) VALUES ('schema_origin', 'holomush');
