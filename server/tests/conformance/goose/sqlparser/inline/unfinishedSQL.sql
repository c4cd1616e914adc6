
-- +goose Up
ALTER TABLE post

-- +goose Down
