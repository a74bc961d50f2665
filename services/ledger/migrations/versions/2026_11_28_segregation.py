"""A fund's money moves only through the business flows, and the database says so.

- ``journal_entries.origin`` (manual or flow) and ``reason`` (why staff booked a
  manual entry); manual entries use manual purposes only; one payment and one
  refund per subscription, one release per fund (partial unique indexes).
- The ``postings_apply`` trigger checks who may credit and debit a fund's escrow,
  with which purpose and reference, for which fund, subscription, investor and
  amount; that a reversal mirrors its original and a resolution its pending entry.
- Account codes must be in the chart; fund accounts are always segregated.
- ``deposits.reference_normalised`` (indexed), to match deposits that arrived
  before the payment they pay was known.
- ``payouts`` record their beneficiary and fund; payouts leave only from a wallet,
  a business's payable, or suspense when a deposit is returned.

Checks that rows written before this revision could not have met are added
``NOT VALID``: new rows are checked, old ones stay as they were written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8
UUID_RE = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ACCOUNT_CODE_IN_CHART = (
    "code ~ '^(fund/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/escrow"
    "|investor/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/wallet"
    "|msme/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/payable"
    "|municipality/[0-9]{6}/subsidy|bank/[A-Za-z0-9][A-Za-z0-9._:-]{0,99}/clearing"
    "|platform/fees|tax/withholding|suspense)$'"
)
PAID_FROM = (
    "(beneficiary = 'investor' AND account = 'investor/' || beneficiary_id || '/wallet')"
    " OR (beneficiary = 'business' AND account = 'msme/' || beneficiary_id || '/payable')"
    " OR (beneficiary = 'payer' AND account = 'suspense'"
    " AND deposit_id IS NOT NULL AND beneficiary_id = deposit_id::text)"
)
# kumiai.references.normalise_reference in SQL: ASCII letters upper case, O as 0,
# I and L as 1, spaces and hyphens dropped (translate deletes what has no counterpart).
_CANONICAL = "ABCDEFGH1JK1MN0PQRSTUVWXYZ"
NORMALISED = (
    "translate(payment_reference, "
    f"'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -', '{_CANONICAL}{_CANONICAL}')"
)

APPLY_POSTINGS = f"""
CREATE OR REPLACE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    chk record;
    acc record;
    seg record;
    rev record;
    ep record;
    fund record;
    paid_in numeric;
    fees_due numeric;
BEGIN
    -- All postings of an entry arrive in one statement: nothing can be added later;
    -- an entry has two postings at least. The same pass notes whether the statement
    -- resolves or reverses anything (checked below only then). Per-entry index
    -- lookups: the planner has no statistics on the transition table.
    SELECT
        (array_agg(n.entry_id) FILTER (WHERE t.total <> n.c))[1] AS grown,
        (array_agg(n.entry_id) FILTER (WHERE n.c < 2))[1] AS short,
        coalesce(bool_or(e.entry_type IN ('reversal', 'post_pending', 'void_pending')), false)
            AS resolving
    INTO chk
    FROM (SELECT entry_id, count(*) AS c FROM new_postings GROUP BY entry_id) n
    CROSS JOIN LATERAL (SELECT count(*) AS total FROM postings p WHERE p.entry_id = n.entry_id) t
    CROSS JOIN LATERAL (
        SELECT entry_type FROM journal_entries WHERE id = n.entry_id LIMIT 1
    ) e;
    IF chk.grown IS NOT NULL THEN
        RAISE EXCEPTION 'entry % already has postings; entries are immutable', chk.grown
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF chk.short IS NOT NULL THEN
        RAISE EXCEPTION 'entry % has fewer than two postings', chk.short
            USING ERRCODE = 'check_violation';
    END IF;

    SELECT n.entry_id, n.currency, n.status INTO bad FROM new_postings n
    GROUP BY n.entry_id, n.currency, n.status
    HAVING sum(CASE WHEN n.direction = 'debit' THEN n.amount ELSE -n.amount END) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % is not balanced in % (% postings)',
            bad.entry_id, bad.currency, bad.status USING ERRCODE = 'check_violation';
    END IF;

    -- Each posting in its account's currency; the same pass notes whether any posting
    -- touches a fund's (segregated) account.
    SELECT
        (array_agg(n.entry_id) FILTER (WHERE a.currency <> n.currency))[1] AS entry_id,
        (array_agg(a.code) FILTER (WHERE a.currency <> n.currency))[1] AS code,
        coalesce(bool_or(a.segregated), false) AS segregated
    INTO acc
    FROM new_postings n
    CROSS JOIN LATERAL (
        SELECT code, currency, segregated FROM accounts WHERE id = n.account_id LIMIT 1
    ) a;
    IF acc.entry_id IS NOT NULL THEN
        RAISE EXCEPTION 'entry % posts another currency to %', acc.entry_id, acc.code
            USING ERRCODE = 'check_violation';
    END IF;

    -- Segregation (rule: ledger.domain.books.check_segregation). A fund's escrow
    -- moves only by a flow entry, posted, in one leg, as one of:
    --   deposit: a payment of a subscription the fund awaits, for exactly the
    --     amount due, from a bank's clearing account or suspense, the fund open;
    --   refund: of a paid subscription, exactly what was paid, to its payer's wallet;
    --   release: once the fund formed, everything paid in, to the fund's own
    --     business, less the fees due (arrangement fee and handling fees).
    -- Once per subscription and per fund: the uq_journal_entries_*_once indexes.
    -- Entries that touch no fund's account skip it (the currency pass above looked).
    -- Lookups are LATERAL by primary key, fenced with LIMIT 1 so that the planner
    -- keeps them per row: it has no statistics on the transition table and, with
    -- plans cached per connection, would otherwise keep scanning whole tables.
    IF acc.segregated THEN
        FOR seg IN
            WITH touched AS (
                SELECT DISTINCT n.entry_id FROM new_postings n
                CROSS JOIN LATERAL (
                    SELECT segregated FROM accounts WHERE id = n.account_id LIMIT 1
                ) a
                WHERE a.segregated
            )
            SELECT t.entry_id, e.purpose, e.origin, e.entry_type, e.reference_type, e.reference_id,
                count(*) AS legs,
                count(*) FILTER (WHERE a.segregated) AS escrow_legs,
                min(a.owner_id) FILTER (WHERE a.segregated) AS fund_id,
                bool_and(n.status = 'posted') AS posted,
                min(n.currency) AS currency,
                count(DISTINCT n.currency) AS currencies,
                coalesce(sum(n.amount) FILTER (WHERE a.segregated AND n.direction = 'credit'), 0)
                    AS escrow_in,
                coalesce(sum(n.amount) FILTER (WHERE a.segregated AND n.direction = 'debit'), 0)
                    AS escrow_out,
                count(*) FILTER (WHERE n.direction = 'debit' AND NOT a.segregated
                    AND (a.owner_type = 'bank' OR a.code = 'suspense')) AS payer_legs,
                count(*) FILTER (WHERE n.direction = 'credit' AND a.owner_type = 'investor')
                    AS wallet_legs,
                min(a.owner_id) FILTER (WHERE n.direction = 'credit' AND a.owner_type = 'investor')
                    AS investor_id,
                count(*) FILTER (WHERE n.direction = 'credit' AND a.owner_type = 'msme')
                    AS payable_legs,
                min(a.owner_id) FILTER (WHERE n.direction = 'credit' AND a.owner_type = 'msme')
                    AS msme_id,
                count(*) FILTER (WHERE n.direction = 'credit' AND a.code = 'platform/fees')
                    AS fee_legs,
                coalesce(sum(n.amount) FILTER (WHERE n.direction = 'credit'
                    AND a.code = 'platform/fees'), 0) AS fees_in
            FROM touched t
            JOIN new_postings n ON n.entry_id = t.entry_id
            CROSS JOIN LATERAL (
                SELECT code, owner_type, owner_id, segregated FROM accounts
                WHERE id = n.account_id LIMIT 1
            ) a
            CROSS JOIN LATERAL (
                SELECT purpose, origin, entry_type, reference_type, reference_id
                FROM journal_entries WHERE id = t.entry_id LIMIT 1
            ) e
            GROUP BY t.entry_id, e.purpose, e.origin, e.entry_type, e.reference_type, e.reference_id
        LOOP
            IF seg.origin <> 'flow' OR seg.entry_type <> 'standard' OR NOT seg.posted
               OR seg.escrow_legs <> 1 OR seg.currencies <> 1 OR seg.fund_id !~ '{UUID_RE}' THEN
                RAISE EXCEPTION 'segregation: entry % may not move the money of fund %: only a '
                    'business flow posts to a fund''s escrow, in one leg', seg.entry_id, seg.fund_id
                    USING ERRCODE = 'check_violation';
            END IF;
            IF seg.purpose IN ('deposit', 'refund') THEN
                IF seg.legs <> 2 OR seg.reference_type IS DISTINCT FROM 'subscription'
                   OR coalesce(seg.reference_id, '') !~ '{UUID_RE}' THEN
                    RAISE EXCEPTION 'segregation: % entry % must name the subscription it is for',
                        seg.purpose, seg.entry_id USING ERRCODE = 'check_violation';
                END IF;
                SELECT p.fund_id, p.investor_id, p.amount, p.currency, p.status INTO ep
                FROM expected_payments p WHERE p.subscription_id = seg.reference_id::uuid;
                IF NOT FOUND OR ep.fund_id::text <> seg.fund_id OR ep.currency <> seg.currency THEN
                    RAISE EXCEPTION 'segregation: subscription % is not one of fund %',
                        seg.reference_id, seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
            END IF;
            IF seg.purpose = 'deposit' THEN
                IF seg.escrow_in = 0 OR seg.payer_legs <> 1 THEN
                    RAISE EXCEPTION 'segregation: a payment into fund % comes from a bank''s '
                        'clearing account or suspense', seg.fund_id
                        USING ERRCODE = 'check_violation';
                END IF;
                IF ep.status <> 'expected' OR ep.amount <> seg.escrow_in THEN
                    RAISE EXCEPTION 'segregation: subscription % awaits no payment of %',
                        seg.reference_id, seg.escrow_in USING ERRCODE = 'check_violation';
                END IF;
                PERFORM 1 FROM funds f WHERE f.fund_id = ep.fund_id AND f.status = 'open';
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'segregation: fund % is not open for payments', seg.fund_id
                        USING ERRCODE = 'check_violation';
                END IF;
            ELSIF seg.purpose = 'refund' THEN
                IF seg.escrow_out = 0 OR seg.wallet_legs <> 1
                   OR seg.investor_id IS DISTINCT FROM ep.investor_id::text THEN
                    RAISE EXCEPTION 'segregation: a refund of subscription % goes to its payer''s '
                        'wallet only', seg.reference_id USING ERRCODE = 'check_violation';
                END IF;
                IF ep.status <> 'paid' OR ep.amount <> seg.escrow_out THEN
                    RAISE EXCEPTION 'segregation: a refund of subscription % pays back exactly '
                        'what was paid, once', seg.reference_id USING ERRCODE = 'check_violation';
                END IF;
            ELSIF seg.purpose = 'release' THEN
                IF seg.escrow_out = 0 OR seg.reference_type IS DISTINCT FROM 'fund'
                   OR seg.reference_id IS DISTINCT FROM seg.fund_id OR seg.payable_legs > 1
                   OR seg.fee_legs > 1 OR seg.legs <> 1 + seg.payable_legs + seg.fee_legs THEN
                    RAISE EXCEPTION 'segregation: a release of fund % pays its business and the '
                        'fees only', seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
                SELECT f.fund_id, f.msme_id, f.status, f.arrangement_fee INTO fund
                FROM funds f WHERE f.fund_id = seg.fund_id::uuid;
                IF NOT FOUND OR fund.status <> 'formed' THEN
                    RAISE EXCEPTION 'segregation: fund % has not formed; it is not released',
                        seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
                IF seg.payable_legs = 1 AND seg.msme_id IS DISTINCT FROM fund.msme_id::text THEN
                    RAISE EXCEPTION 'segregation: fund % is released to its own business only',
                        seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
                SELECT coalesce(sum(p.amount), 0), coalesce(sum(p.fee_amount), 0)
                INTO paid_in, fees_due
                FROM expected_payments p WHERE p.fund_id = fund.fund_id AND p.status = 'paid';
                IF seg.escrow_out <> paid_in
                   OR seg.fees_in <> fees_due + fund.arrangement_fee THEN
                    RAISE EXCEPTION 'segregation: a release of fund % takes out % paid in and '
                        'keeps % of fees, not % and %', seg.fund_id, paid_in,
                        fees_due + fund.arrangement_fee, seg.escrow_out, seg.fees_in
                        USING ERRCODE = 'check_violation';
                END IF;
            ELSE
                RAISE EXCEPTION 'segregation: a % entry may not move the money of fund %',
                    seg.purpose, seg.fund_id USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
    END IF;

    -- A reversal mirrors its original exactly (same accounts, currencies and amounts,
    -- directions swapped; rule: ledger.domain.books.mirrors) and, like it, is manual.
    -- A resolution releases exactly its pending entry's amounts (and posts them, when
    -- posting) and keeps its origin: a payout is settled only by its flow.
    IF chk.resolving THEN
        FOR rev IN
            SELECT e.id, e.entry_type, e.origin, o.id AS original, o.entry_type AS original_type,
                o.origin AS original_origin
            FROM (SELECT DISTINCT entry_id FROM new_postings) n
            CROSS JOIN LATERAL (
                SELECT id, entry_type, origin, reverses_entry_id, pending_entry_id
                FROM journal_entries
                WHERE id = n.entry_id AND entry_type IN ('reversal', 'post_pending', 'void_pending')
                LIMIT 1
            ) e
            CROSS JOIN LATERAL (
                SELECT id, entry_type, origin FROM journal_entries
                WHERE id = coalesce(e.reverses_entry_id, e.pending_entry_id) LIMIT 1
            ) o
        LOOP
            IF rev.entry_type = 'reversal' THEN
                IF rev.original_type NOT IN ('standard', 'post_pending')
                   OR rev.origin <> 'manual' OR rev.original_origin <> 'manual' THEN
                    RAISE EXCEPTION 'reversal: entry % may reverse only a posted manual entry',
                        rev.id USING ERRCODE = 'check_violation';
                END IF;
                PERFORM 1 FROM (
                    (SELECT account_id, currency, direction, amount, status
                     FROM new_postings WHERE entry_id = rev.id
                     EXCEPT ALL
                     SELECT account_id, currency,
                         CASE direction WHEN 'debit' THEN 'credit' ELSE 'debit' END, amount, status
                     FROM postings WHERE entry_id = rev.original AND status = 'posted')
                    UNION ALL
                    (SELECT account_id, currency,
                         CASE direction WHEN 'debit' THEN 'credit' ELSE 'debit' END, amount, status
                     FROM postings WHERE entry_id = rev.original AND status = 'posted'
                     EXCEPT ALL
                     SELECT account_id, currency, direction, amount, status
                     FROM new_postings WHERE entry_id = rev.id)
                ) difference;
                IF FOUND THEN
                    RAISE EXCEPTION 'reversal: entry % does not mirror entry % exactly',
                        rev.id, rev.original USING ERRCODE = 'check_violation';
                END IF;
            ELSE
                IF rev.original_type <> 'pending' OR rev.origin <> rev.original_origin THEN
                    RAISE EXCEPTION 'resolution: entry % may resolve only a pending entry of its '
                        'own origin', rev.id USING ERRCODE = 'check_violation';
                END IF;
                PERFORM 1 FROM (
                    (SELECT account_id, currency, direction, amount, status
                     FROM new_postings WHERE entry_id = rev.id
                     EXCEPT ALL
                     SELECT p.account_id, p.currency, p.direction, p.amount, s.status
                     FROM postings p CROSS JOIN (VALUES ('release'), ('posted')) s(status)
                     WHERE p.entry_id = rev.original
                       AND (s.status = 'release' OR rev.entry_type = 'post_pending'))
                    UNION ALL
                    (SELECT p.account_id, p.currency, p.direction, p.amount, s.status
                     FROM postings p CROSS JOIN (VALUES ('release'), ('posted')) s(status)
                     WHERE p.entry_id = rev.original
                       AND (s.status = 'release' OR rev.entry_type = 'post_pending')
                     EXCEPT ALL
                     SELECT account_id, currency, direction, amount, status
                     FROM new_postings WHERE entry_id = rev.id)
                ) difference;
                IF FOUND THEN
                    RAISE EXCEPTION 'resolution: entry % does not settle exactly pending entry %',
                        rev.id, rev.original USING ERRCODE = 'check_violation';
                END IF;
            END IF;
        END LOOP;
    END IF;

    -- Running totals, one random slot per account, slots taken in key order.
    INSERT INTO account_balances AS b
        (account_id, slot, posted_debits, posted_credits, pending_debits, pending_credits)
    SELECT account_id, floor(random() * {SLOTS})::smallint,
        coalesce(sum(amount) FILTER (WHERE status = 'posted' AND direction = 'debit'), 0),
        coalesce(sum(amount) FILTER (WHERE status = 'posted' AND direction = 'credit'), 0),
        coalesce(sum(CASE WHEN status = 'pending' THEN amount ELSE -amount END)
            FILTER (WHERE status <> 'posted' AND direction = 'debit'), 0),
        coalesce(sum(CASE WHEN status = 'pending' THEN amount ELSE -amount END)
            FILTER (WHERE status <> 'posted' AND direction = 'credit'), 0)
    FROM new_postings GROUP BY account_id
    ORDER BY 1, 2
    ON CONFLICT (account_id, slot) DO UPDATE SET
        posted_debits = b.posted_debits + EXCLUDED.posted_debits,
        posted_credits = b.posted_credits + EXCLUDED.posted_credits,
        pending_debits = b.pending_debits + EXCLUDED.pending_debits,
        pending_credits = b.pending_credits + EXCLUDED.pending_credits;

    -- Balance conditions on the sum of the slots. A writer that could break one
    -- holds the account's row lock, so no two such writers check at once.
    SELECT a.code INTO bad
    FROM (SELECT DISTINCT account_id FROM new_postings) n
    CROSS JOIN LATERAL (
        SELECT code, debits_must_not_exceed_credits, credits_must_not_exceed_debits
        FROM accounts WHERE id = n.account_id LIMIT 1
    ) a
    CROSS JOIN LATERAL (
        SELECT sum(posted_debits) AS pd, sum(posted_credits) AS pc,
            sum(pending_debits) AS qd, sum(pending_credits) AS qc
        FROM account_balances b WHERE b.account_id = n.account_id
    ) t
    WHERE t.qd < 0 OR t.qc < 0
       OR (a.debits_must_not_exceed_credits AND t.pd + t.qd > t.pc)
       OR (a.credits_must_not_exceed_debits AND t.pc + t.qc > t.pd)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'balance condition: account % would go beyond its limit', bad.code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
"""

# Entries written by a business flow before origins were recorded: deposits, the
# staff's suspense matches, refunds, releases and payouts with their resolutions.
FLOW_ENTRIES = """
UPDATE journal_entries e SET origin = CASE WHEN
    e.id IN (SELECT entry_id FROM deposits)
    OR e.id IN (SELECT pending_entry_id FROM payouts)
    OR e.id IN (SELECT resolution_entry_id FROM payouts WHERE resolution_entry_id IS NOT NULL)
    OR e.idempotency_key LIKE 'refund/%'
    OR e.idempotency_key LIKE 'release/%'
    OR e.idempotency_key LIKE 'deposit/%/match'
    THEN 'flow' ELSE 'manual' END
"""


def upgrade() -> None:
    op.add_column("journal_entries", sa.Column("origin", sa.Text(), nullable=True))
    op.add_column("journal_entries", sa.Column("reason", sa.Text(), nullable=True))
    # Entries are immutable (journal_entries_immutable); the new columns are filled
    # once, here, with the trigger off inside this migration's transaction.
    op.execute("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_immutable")
    op.execute(FLOW_ENTRIES)
    # Manual entries used to carry their reason in the description.
    op.execute("UPDATE journal_entries SET reason = description WHERE origin = 'manual'")
    op.execute("ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_immutable")
    op.alter_column("journal_entries", "origin", nullable=False)
    op.create_check_constraint(
        "ck_journal_entries_origin_known", "journal_entries", "origin IN ('manual', 'flow')"
    )
    op.create_check_constraint(
        "ck_journal_entries_manual_entries_give_a_reason",
        "journal_entries",
        "(origin = 'manual') = (reason IS NOT NULL)",
    )
    # Rule: ledger.domain.books.check_manual_entry. Staff could book any purpose before.
    op.execute(
        "ALTER TABLE journal_entries ADD CONSTRAINT ck_journal_entries_manual_purposes "
        "CHECK (origin = 'flow' OR purpose IN ('adjustment', 'transfer', 'reversal')) NOT VALID"
    )
    # Once per subscription and per fund (rule: ledger.domain.books.check_segregation).
    op.create_index(
        "uq_journal_entries_payment_once",
        "journal_entries",
        ["reference_id"],
        unique=True,
        postgresql_where=sa.text("purpose = 'deposit' AND reference_type = 'subscription'"),
    )
    op.create_index(
        "uq_journal_entries_refund_once",
        "journal_entries",
        ["reference_id"],
        unique=True,
        postgresql_where=sa.text("purpose = 'refund'"),
    )
    op.create_index(
        "uq_journal_entries_release_once",
        "journal_entries",
        ["reference_id"],
        unique=True,
        postgresql_where=sa.text("purpose = 'release'"),
    )

    # Rule: ledger.domain.books.chart_of_accounts. Codes opened before ids were
    # validated (fund/not-a-uuid/escrow) stay; no new one can be opened.
    op.execute(
        f"ALTER TABLE accounts ADD CONSTRAINT ck_accounts_code_in_chart "
        f"CHECK ({ACCOUNT_CODE_IN_CHART}) NOT VALID"
    )
    # The trigger's segregation checks find a fund's money by this flag.
    op.create_check_constraint(
        "ck_accounts_fund_accounts_segregated", "accounts", "segregated = (code LIKE 'fund/%')"
    )
    op.create_check_constraint(
        "ck_funds_status_known",
        "funds",
        "status IN ('open', 'formed', 'released', 'closed_failed', 'release_held')",
    )

    op.add_column("deposits", sa.Column("reference_normalised", sa.Text(), nullable=True))
    op.execute(f"UPDATE deposits SET reference_normalised = {NORMALISED}")
    op.alter_column("deposits", "reference_normalised", nullable=False)
    op.create_index(op.f("ix_deposits_reference_normalised"), "deposits", ["reference_normalised"])

    op.add_column("payouts", sa.Column("beneficiary", sa.Text(), nullable=True))
    op.add_column("payouts", sa.Column("beneficiary_id", sa.Text(), nullable=True))
    op.add_column("payouts", sa.Column("fund_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE payouts SET "
        "beneficiary = CASE WHEN account LIKE 'investor/%' THEN 'investor' "
        "WHEN account LIKE 'msme/%' THEN 'business' ELSE 'payer' END, "
        "beneficiary_id = CASE WHEN account LIKE 'investor/%' OR account LIKE 'msme/%' "
        "THEN split_part(account, '/', 2) ELSE coalesce(deposit_id::text, id::text) END"
    )
    op.alter_column("payouts", "beneficiary", nullable=False)
    op.alter_column("payouts", "beneficiary_id", nullable=False)
    op.create_check_constraint(
        "ck_payouts_beneficiary_known",
        "payouts",
        "beneficiary IN ('investor', 'business', 'payer')",
    )
    # Rule: ledger.domain.books.payout_beneficiary. Staff could pay out of suspense before.
    op.execute(
        "ALTER TABLE payouts ADD CONSTRAINT ck_payouts_paid_from_the_beneficiarys_account "
        f"CHECK ({PAID_FROM}) NOT VALID"
    )

    op.execute(APPLY_POSTINGS)


def _books_revision_function() -> str:
    path = Path(__file__).with_name("2026_11_22_books.py")
    spec = spec_from_file_location("ledger_books_revision", path)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.APPLY_POSTINGS
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def downgrade() -> None:
    op.execute(_books_revision_function())
    op.drop_constraint("ck_payouts_paid_from_the_beneficiarys_account", "payouts", type_="check")
    op.drop_constraint("ck_payouts_beneficiary_known", "payouts", type_="check")
    op.drop_column("payouts", "fund_id")
    op.drop_column("payouts", "beneficiary_id")
    op.drop_column("payouts", "beneficiary")
    op.drop_index(op.f("ix_deposits_reference_normalised"), table_name="deposits")
    op.drop_column("deposits", "reference_normalised")
    op.drop_constraint("ck_funds_status_known", "funds", type_="check")
    op.drop_constraint("ck_accounts_fund_accounts_segregated", "accounts", type_="check")
    op.drop_constraint("ck_accounts_code_in_chart", "accounts", type_="check")
    op.drop_index("uq_journal_entries_release_once", table_name="journal_entries")
    op.drop_index("uq_journal_entries_refund_once", table_name="journal_entries")
    op.drop_index("uq_journal_entries_payment_once", table_name="journal_entries")
    op.drop_constraint("ck_journal_entries_manual_purposes", "journal_entries", type_="check")
    op.drop_constraint(
        "ck_journal_entries_manual_entries_give_a_reason", "journal_entries", type_="check"
    )
    op.drop_constraint("ck_journal_entries_origin_known", "journal_entries", type_="check")
    op.drop_column("journal_entries", "reason")
    op.drop_column("journal_entries", "origin")
