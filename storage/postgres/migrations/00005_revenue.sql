-- +goose Up
-- Revenue sharing: monthly periods, their calculated payouts, an append-only
-- double-entry ledger, late adjustments, payout profiles and the finance
-- audit log. See internal/revenue for the rule.
--
-- Life of a period: open (created) → calculated (a draft in revenue_payouts,
-- replaced wholesale by each recalculation; nothing in the ledger yet) →
-- approved (the ledger gets the revenue and allocation transactions; the
-- payout rows and the period's figures are frozen) → paid (every payable row
-- has a payment transaction). Corrections after approval are adjustments:
-- new ledger transactions, never edits.
CREATE TABLE revenue_periods (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period            text NOT NULL UNIQUE CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    starts_on         date NOT NULL,
    ends_on           date NOT NULL CHECK (ends_on > starts_on), -- exclusive
    revenue_minor     bigint NOT NULL CHECK (revenue_minor >= 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    creator_share_bps integer NOT NULL CHECK (creator_share_bps BETWEEN 0 AND 10000),
    view_threshold    bigint NOT NULL CHECK (view_threshold >= 0),
    min_payout_minor  bigint NOT NULL CHECK (min_payout_minor >= 0),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'calculated', 'approved', 'paid')),
    total_views       bigint NOT NULL DEFAULT 0,
    eligible_views    bigint NOT NULL DEFAULT 0,
    eligible_count    integer NOT NULL DEFAULT 0,
    creator_count     integer NOT NULL DEFAULT 0,
    pool_minor        bigint NOT NULL DEFAULT 0,
    platform_minor    bigint NOT NULL DEFAULT 0,
    result_digest     text NOT NULL DEFAULT '',
    created_by        bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL,
    calculated_at     timestamptz,
    approved_at       timestamptz
);

-- One row per creator and period: the calculation's inputs (views, carried
-- balance) and outputs. creator_id has no foreign key, like the buckets.
CREATE TABLE revenue_payouts (
    period_id          bigint NOT NULL REFERENCES revenue_periods (id),
    creator_id         bigint NOT NULL,
    period_views       bigint NOT NULL CHECK (period_views >= 0),
    lifetime_views     bigint NOT NULL CHECK (lifetime_views >= 0),
    eligible           boolean NOT NULL,
    amount_minor       bigint NOT NULL CHECK (amount_minor >= 0),
    carried_in_minor   bigint NOT NULL,
    payable_minor      bigint NOT NULL CHECK (payable_minor >= 0),
    carried_over_minor bigint NOT NULL,
    paid_at            timestamptz,
    payment_reference  text,
    PRIMARY KEY (period_id, creator_id)
);
CREATE INDEX revenue_payouts_creator_idx ON revenue_payouts (creator_id);

-- +goose StatementBegin
CREATE FUNCTION revenue_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE st text;
BEGIN
    IF TG_TABLE_NAME = 'revenue_periods' THEN
        IF TG_OP = 'DELETE' THEN
            IF OLD.status IN ('approved', 'paid') THEN
                RAISE EXCEPTION 'revenue period % is approved and immutable', OLD.period USING ERRCODE = 'P0001';
            END IF;
            RETURN OLD;
        END IF;
        IF OLD.status IN ('approved', 'paid') AND ((
            NEW.period, NEW.revenue_minor, NEW.currency, NEW.creator_share_bps, NEW.view_threshold,
            NEW.min_payout_minor, NEW.total_views, NEW.eligible_views, NEW.eligible_count,
            NEW.creator_count, NEW.pool_minor, NEW.platform_minor, NEW.result_digest, NEW.approved_at)
            IS DISTINCT FROM (
            OLD.period, OLD.revenue_minor, OLD.currency, OLD.creator_share_bps, OLD.view_threshold,
            OLD.min_payout_minor, OLD.total_views, OLD.eligible_views, OLD.eligible_count,
            OLD.creator_count, OLD.pool_minor, OLD.platform_minor, OLD.result_digest, OLD.approved_at)
            OR NEW.status NOT IN ('approved', 'paid')) THEN
            RAISE EXCEPTION 'revenue period % is approved and immutable', OLD.period USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    SELECT status INTO st FROM revenue_periods WHERE id = OLD.period_id;
    IF st IN ('approved', 'paid') THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'payouts of an approved revenue period are immutable' USING ERRCODE = 'P0001';
        END IF;
        IF (
            NEW.period_id, NEW.creator_id, NEW.period_views, NEW.lifetime_views, NEW.eligible,
            NEW.amount_minor, NEW.carried_in_minor, NEW.payable_minor, NEW.carried_over_minor)
            IS DISTINCT FROM (
            OLD.period_id, OLD.creator_id, OLD.period_views, OLD.lifetime_views, OLD.eligible,
            OLD.amount_minor, OLD.carried_in_minor, OLD.payable_minor, OLD.carried_over_minor)
            OR (OLD.paid_at IS NOT NULL AND (NEW.paid_at, NEW.payment_reference) IS DISTINCT FROM (OLD.paid_at, OLD.payment_reference)) THEN
            RAISE EXCEPTION 'payouts of an approved revenue period are immutable' USING ERRCODE = 'P0001';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER revenue_periods_frozen BEFORE UPDATE OR DELETE ON revenue_periods
    FOR EACH ROW EXECUTE FUNCTION revenue_frozen_guard();
CREATE TRIGGER revenue_payouts_frozen BEFORE UPDATE OR DELETE ON revenue_payouts
    FOR EACH ROW EXECUTE FUNCTION revenue_frozen_guard();

-- The ledger. Accounts: revenue, platform_share, cash and
-- creator_payable:<creator id>. Amounts are positive; side says D or C.
CREATE TABLE ledger_transactions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_id  bigint NOT NULL REFERENCES revenue_periods (id),
    kind       text NOT NULL CHECK (kind IN ('revenue', 'allocation', 'payment', 'adjustment')),
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    memo       text NOT NULL DEFAULT '',
    created_by bigint,
    created_at timestamptz NOT NULL
);
CREATE INDEX ledger_transactions_period_idx ON ledger_transactions (period_id);

CREATE TABLE ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id bigint NOT NULL REFERENCES ledger_transactions (id),
    account        text NOT NULL CHECK (account IN ('revenue', 'platform_share', 'cash') OR account ~ '^creator_payable:[0-9]+$'),
    creator_id     bigint,
    side           char(1) NOT NULL CHECK (side IN ('D', 'C')),
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    CHECK ((creator_id IS NULL AND account NOT LIKE 'creator_payable:%') OR account = 'creator_payable:' || creator_id)
);
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_creator_idx ON ledger_entries (creator_id) WHERE creator_id IS NOT NULL;

-- Late corrections to an approved period: each is also a ledger transaction.
CREATE TABLE revenue_adjustments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_id      bigint NOT NULL REFERENCES revenue_periods (id),
    creator_id     bigint NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor <> 0),
    reason         text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    transaction_id bigint NOT NULL REFERENCES ledger_transactions (id),
    created_by     bigint,
    created_at     timestamptz NOT NULL
);
CREATE INDEX revenue_adjustments_period_idx ON revenue_adjustments (period_id);

-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME USING ERRCODE = 'P0001';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER revenue_adjustments_append_only BEFORE UPDATE OR DELETE ON revenue_adjustments
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Every INSERT into ledger_entries must carry whole, balanced transactions:
-- checked once per statement over the inserted rows.
-- +goose StatementBegin
CREATE FUNCTION ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
    SELECT transaction_id INTO bad FROM new_entries GROUP BY transaction_id
    HAVING sum(CASE side WHEN 'D' THEN amount_minor ELSE 0 END) <> sum(CASE side WHEN 'C' THEN amount_minor ELSE 0 END)
    LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is not balanced (debits <> credits)', bad USING ERRCODE = 'P0001';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_balanced();

-- A creator's payout details. method_ref is e.g. an IBAN or PayPal id;
-- finance sees it masked except its last four characters.
CREATE TABLE payout_profiles (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    legal_name text NOT NULL CHECK (char_length(legal_name) BETWEEN 1 AND 200),
    country    text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    method_ref text NOT NULL CHECK (char_length(method_ref) BETWEEN 4 AND 100),
    updated_at timestamptz NOT NULL
);

-- Who did what to which period, and when.
CREATE TABLE revenue_audit (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_id bigint REFERENCES revenue_periods (id),
    actor_id  bigint,
    actor     text NOT NULL,
    action    text NOT NULL,
    detail    text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL
);
CREATE INDEX revenue_audit_period_idx ON revenue_audit (period_id, id);
CREATE TRIGGER revenue_audit_append_only BEFORE UPDATE OR DELETE ON revenue_audit
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE revenue_audit;
DROP TABLE payout_profiles;
DROP TABLE revenue_adjustments;
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE revenue_payouts;
DROP TABLE revenue_periods;
DROP FUNCTION ledger_balanced();
DROP FUNCTION ledger_append_only();
DROP FUNCTION revenue_frozen_guard();
