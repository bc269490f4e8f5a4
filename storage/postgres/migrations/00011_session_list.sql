-- Sessions and API tokens as their owner lists them (settings → security,
-- /api/v1/me/sessions and /api/v1/me/tokens): a public id to revoke one by,
-- the device they were opened from and when they were last used.
-- +goose Up
ALTER TABLE sessions
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN user_agent text NOT NULL DEFAULT '',
    ADD COLUMN last_used_at timestamptz;
ALTER TABLE sessions ADD CONSTRAINT sessions_id_key UNIQUE (id);

ALTER TABLE api_tokens
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_id_key UNIQUE (id);

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN user_agent, DROP COLUMN id;
ALTER TABLE sessions DROP COLUMN last_used_at, DROP COLUMN user_agent, DROP COLUMN id;
