-- +goose Down
DROP TABLE fancier_post;
