-- +goose Up
-- The language a user chose for UCC's pages and messages; NULL while they
-- have chosen none (their browser's Accept-Language, then the site's
-- default language, decide).
ALTER TABLE users ADD COLUMN language text CHECK (language IN ('ko', 'en'));

-- +goose Down
ALTER TABLE users DROP COLUMN language;
