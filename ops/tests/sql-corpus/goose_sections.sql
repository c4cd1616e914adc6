-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION location_depth(loc bigint) RETURNS int AS $$
DECLARE d int := 0;
BEGIN
    WHILE loc IS NOT NULL LOOP
        SELECT parent_id INTO loc FROM locations WHERE id = loc;
        d := d + 1;
    END LOOP;
    RETURN d;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE INDEX locations_parent_idx ON locations (parent_id);

-- +goose Down
DROP INDEX locations_parent_idx;
DROP FUNCTION location_depth(bigint);
