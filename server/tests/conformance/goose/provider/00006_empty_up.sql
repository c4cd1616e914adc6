
-- +goose Up
