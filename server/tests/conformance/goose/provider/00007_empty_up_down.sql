
-- +goose Up
-- +goose Down
