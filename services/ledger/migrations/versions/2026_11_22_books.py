"""Accounts, journal entries and postings, with the rules the database enforces.

Running totals are kept per account in up to ``SLOTS`` rows of
``account_balances``: an entry adds to one random slot per account, so writers
that only add to an account do not queue; balance conditions are checked on
the sum of the slots (see docs/decisions/0004-ledger-books.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_CHANGE = """
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable: % on % refused; post a reversing entry',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
"""

SLOTS = 8
TOTALS = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")

APPLY_POSTINGS = f"""
CREATE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- All postings of an entry arrive in one statement: nothing can be added later.
    -- (Per-entry index lookups: the planner has no statistics on the transition
    -- table and would otherwise scan every posting.)
    SELECT n.entry_id INTO bad
    FROM (SELECT entry_id, count(*) AS c FROM new_postings GROUP BY entry_id) n
    WHERE (SELECT count(*) FROM postings p WHERE p.entry_id = n.entry_id) <> n.c
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % already has postings; entries are immutable', bad.entry_id
            USING ERRCODE = 'restrict_violation';
    END IF;

    SELECT n.entry_id INTO bad FROM new_postings n
    GROUP BY n.entry_id HAVING count(*) < 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % has fewer than two postings', bad.entry_id
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

    SELECT n.entry_id, a.code INTO bad FROM new_postings n
    CROSS JOIN LATERAL (SELECT code, currency FROM accounts WHERE id = n.account_id) a
    WHERE a.currency <> n.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry % posts another currency to %', bad.entry_id, bad.code
            USING ERRCODE = 'check_violation';
    END IF;

    -- Segregation: money leaves a fund's escrow only as a release or a refund.
    SELECT a.code, e.purpose INTO bad FROM new_postings n
    CROSS JOIN LATERAL (SELECT code, segregated FROM accounts WHERE id = n.account_id) a
    CROSS JOIN LATERAL (SELECT purpose FROM journal_entries WHERE id = n.entry_id) e
    WHERE a.segregated AND n.direction = 'debit'
      AND e.purpose NOT IN ('release', 'refund', 'reversal')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'money may leave escrow account % only by a release or a refund, not %',
            bad.code, bad.purpose USING ERRCODE = 'check_violation';
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
    JOIN accounts a ON a.id = n.account_id
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


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("owner_type", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=True),
        sa.Column("segregated", sa.Boolean(), nullable=False),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean(), nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('asset', 'liability', 'equity', 'revenue', 'expense')",
            name=op.f("ck_accounts_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    op.create_table(
        "account_balances",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in TOTALS),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_balances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "slot", name=op.f("pk_account_balances")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("entry_type", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reference_type", sa.Text(), nullable=True),
        sa.Column("reference_id", sa.Text(), nullable=True),
        sa.Column("pending_entry_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "entry_type IN ('standard', 'pending', 'post_pending', 'void_pending', 'reversal')",
            name=op.f("ck_journal_entries_entry_type_known"),
        ),
        sa.CheckConstraint(
            "(entry_type IN ('post_pending', 'void_pending')) = (pending_entry_id IS NOT NULL)",
            name=op.f("ck_journal_entries_resolution_names_its_pending_entry"),
        ),
        sa.CheckConstraint(
            "(entry_type = 'reversal') = (reverses_entry_id IS NOT NULL)",
            name=op.f("ck_journal_entries_reversal_names_its_original"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_pending_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_entries_idempotency_key")),
        sa.UniqueConstraint("pending_entry_id", name=op.f("uq_journal_entries_pending_entry_id")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_journal_entries_reverses_entry_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_journal_entries_seq")),
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_postings_amount_positive")),
        sa.CheckConstraint(
            "direction IN ('debit', 'credit')", name=op.f("ck_postings_direction_known")
        ),
        sa.CheckConstraint(
            "status IN ('posted', 'pending', 'release')", name=op.f("ck_postings_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index(op.f("ix_postings_entry_id"), "postings", ["entry_id"])
    op.create_index("ix_postings_account_id_id", "postings", ["account_id", "id"])
    op.execute(REFUSE_CHANGE)
    op.execute(APPLY_POSTINGS)
    for table in ("journal_entries", "postings"):
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER postings_apply AFTER INSERT ON postings "
        "REFERENCING NEW TABLE AS new_postings "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE postings")
    op.execute("DROP TABLE account_balances")
    op.execute("DROP TABLE journal_entries")
    op.execute("DROP TABLE accounts")
    op.execute("DROP FUNCTION ledger_apply_postings()")
    op.execute("DROP FUNCTION ledger_refuse_change()")
