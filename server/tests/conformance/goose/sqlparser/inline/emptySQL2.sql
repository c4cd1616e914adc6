

-- comment
-- +goose Up

-- comment
-- +goose Down

