-- +goose Up
-- The runtime role. `ucc migrate` runs as the owner of the tables (the
-- role of UCC_MIGRATE_DATABASE_URL); `ucc serve` and the other commands run
-- as ucc_app (UCC_DATABASE_URL), which may read and write rows and nothing
-- else: it owns no table, so it cannot ALTER one (no DISABLE TRIGGER on the
-- ledger's guards), and it has no TRUNCATE. The role is created here with
-- LOGIN and no password: with password authentication it logs in only once
-- an administrator gives it one (ALTER ROLE ucc_app PASSWORD '...'), or an
-- administrator creates it beforehand (then this migration leaves it be).

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ucc_app') THEN
        CREATE ROLE ucc_app LOGIN;
    END IF;
END $$;
-- +goose StatementEnd
-- (CONNECT and TEMPORARY on the database it has through PUBLIC.)
GRANT USAGE ON SCHEMA public TO ucc_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ucc_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ucc_app;
-- Tables and sequences the owner creates later (UCC's next migrations,
-- River's on an upgrade) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ucc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ucc_app;
-- The migrations' own bookkeeping is read-only to it.
REVOKE INSERT, UPDATE, DELETE ON goose_db_version, river_migration FROM ucc_app;

-- TRUNCATE skips row triggers: a statement-level guard on every table of
-- money and its history (the ledger's two have theirs since 00005), for
-- the owner too.
-- +goose StatementBegin
CREATE FUNCTION revenue_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% keeps the history of payouts: TRUNCATE is not allowed', TG_TABLE_NAME USING ERRCODE = 'P0001';
END $$;
-- +goose StatementEnd
CREATE TRIGGER revenue_periods_no_truncate BEFORE TRUNCATE ON revenue_periods
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_no_truncate();
CREATE TRIGGER revenue_payouts_no_truncate BEFORE TRUNCATE ON revenue_payouts
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_no_truncate();
CREATE TRIGGER revenue_adjustments_no_truncate BEFORE TRUNCATE ON revenue_adjustments
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_no_truncate();
CREATE TRIGGER revenue_audit_no_truncate BEFORE TRUNCATE ON revenue_audit
    FOR EACH STATEMENT EXECUTE FUNCTION revenue_no_truncate();

-- +goose Down
DROP TRIGGER revenue_audit_no_truncate ON revenue_audit;
DROP TRIGGER revenue_adjustments_no_truncate ON revenue_adjustments;
DROP TRIGGER revenue_payouts_no_truncate ON revenue_payouts;
DROP TRIGGER revenue_periods_no_truncate ON revenue_periods;
DROP FUNCTION revenue_no_truncate();
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM ucc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM ucc_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ucc_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ucc_app;
REVOKE USAGE ON SCHEMA public FROM ucc_app;
