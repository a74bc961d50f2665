"""Distributions: the business pays a declared distribution into the fund's own
distribution account, and the ledger pays it out to investors, tax and fees.

- ``distributions`` (one per fund and period, from ``DividendDeclared``), their
  ``distribution_batches`` and ``distribution_lines`` (from ``DistributionAllocated``),
  and ``distribution_fees`` (operation and audit fees booked as receivable, once per
  fund, kind and fiscal year); deposits say which distribution they paid.
- The chart gains ``fund/<id>/distribution`` (segregated, like the escrow) and
  ``msme/<id>/receivable`` (what a business owes the operator).
- The postings trigger (revision 0008's function, rule:
  ``ledger.books.rules.check_segregation``) learns the distribution account:
  money enters it only as the business's payment of a declared distribution, for
  exactly what it owes, once; it leaves only as that distribution's batches, to
  the wallets of its investors for exactly their net, to the withholding account,
  the operator's fees and the business's receivable. A fund's escrow is moved only
  by the flows it was (a distribution entry never touches it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _revision(name: str) -> ModuleType:
    path = Path(__file__).with_name(name)
    spec = spec_from_file_location(f"ledger_revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEGREGATION = _revision("2026_11_28_segregation.py")
OLD_CHART: str = SEGREGATION.ACCOUNT_CODE_IN_CHART
CHART = OLD_CHART.replace("/escrow", f"/escrow|fund/{UUID}/distribution|msme/{UUID}/receivable", 1)


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError(f"the postings function changed where this revision edits it: {old!r}")
    return text.replace(old, new)


# Revision 0008's function (0007's, its comments naming the rules' new homes).
PREVIOUS: str = SEGREGATION.APPLY_POSTINGS.replace("ledger.domain.books.", "ledger.books.rules.")

DISTRIBUTION_SECTION = """
            -- A fund's distribution account (rule: ledger.books.rules.check_distribution):
            --   deposit: the business pays a declared distribution, exactly what it owes,
            --     from a bank's clearing account or suspense, once;
            --   distribution: one batch of it leaves, to the wallets of the distribution's
            --     investors for exactly their net, the withholding account, the operator's
            --     fees and the business's receivable, while the distribution is funded.
            -- The account cannot go below zero, so no more leaves than was paid in.
            IF seg.fund_account LIKE 'fund/%/distribution' OR seg.reference_type = 'distribution'
            THEN
                IF seg.fund_account NOT LIKE 'fund/%/distribution'
                   OR seg.reference_type IS DISTINCT FROM 'distribution'
                   OR coalesce(seg.reference_id, '')
                      !~ ('^' || seg.fund_id || '/[1-9][0-9]{0,5}$') THEN
                    RAISE EXCEPTION 'segregation: entry % may not move the distribution money of '
                        'fund %: only its distributions do, naming fund and period',
                        seg.entry_id, seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
                SELECT d.fund_id, d.period_number, d.status, d.business_owes, d.msme_id, d.currency
                INTO dist
                FROM distributions d
                WHERE d.fund_id = seg.fund_id::uuid
                  AND d.period_number = split_part(seg.reference_id, '/', 2)::int;
                IF NOT FOUND OR dist.currency <> seg.currency THEN
                    RAISE EXCEPTION 'segregation: distribution % was never declared',
                        seg.reference_id USING ERRCODE = 'check_violation';
                END IF;
                IF seg.purpose = 'deposit' THEN
                    IF seg.legs <> 2 OR seg.payer_legs <> 1 OR seg.escrow_out <> 0 THEN
                        RAISE EXCEPTION 'segregation: a payment of distribution % comes from a '
                            'bank''s clearing account or suspense', seg.reference_id
                            USING ERRCODE = 'check_violation';
                    END IF;
                    IF dist.status <> 'declared' OR dist.business_owes <> seg.escrow_in THEN
                        RAISE EXCEPTION 'segregation: distribution % awaits no payment of %',
                            seg.reference_id, seg.escrow_in USING ERRCODE = 'check_violation';
                    END IF;
                ELSIF seg.purpose = 'distribution' THEN
                    IF seg.escrow_in <> 0 OR dist.status <> 'funded' THEN
                        RAISE EXCEPTION 'segregation: distribution % is not funded; nothing of it '
                            'is paid out', seg.reference_id USING ERRCODE = 'check_violation';
                    END IF;
                    -- One primary-key probe of the lines per wallet leg.
                    SELECT count(*) FILTER (WHERE NOT (
                            (n.direction = 'credit' AND a.owner_type = 'investor'
                                AND l.net IS NOT DISTINCT FROM n.amount)
                            OR (n.direction = 'credit'
                                AND a.code IN ('tax/withholding', 'platform/fees'))
                            OR (n.direction = 'credit'
                                AND a.code = 'msme/' || dist.msme_id::text || '/receivable')
                            OR a.segregated))
                    INTO strays
                    FROM new_postings n
                    CROSS JOIN LATERAL (
                        SELECT code, owner_type, segregated,
                            CASE WHEN owner_type = 'investor' THEN owner_id::uuid END AS investor
                        FROM accounts WHERE id = n.account_id LIMIT 1
                    ) a
                    LEFT JOIN LATERAL (
                        SELECT net FROM distribution_lines
                        WHERE fund_id = dist.fund_id AND period_number = dist.period_number
                          AND investor_id = a.investor
                        LIMIT 1
                    ) l ON true
                    WHERE n.entry_id = seg.entry_id;
                    IF strays > 0 THEN
                        RAISE EXCEPTION 'segregation: distribution % pays only its investors their '
                            'net, the withholding tax, the fees and the business''s receivable '
                            '(% other legs)', seg.reference_id, strays
                            USING ERRCODE = 'check_violation';
                    END IF;
                ELSE
                    RAISE EXCEPTION 'segregation: a % entry may not move the distribution money '
                        'of fund %', seg.purpose, seg.fund_id USING ERRCODE = 'check_violation';
                END IF;
                CONTINUE;
            END IF;
            IF seg.fund_account NOT LIKE 'fund/%/escrow' THEN
                RAISE EXCEPTION 'segregation: entry % may not move the money of fund %',
                    seg.entry_id, seg.fund_id USING ERRCODE = 'check_violation';
            END IF;
"""

# The entries that touch a fund's account are noted in the currency pass, which looks up
# every posting's account already, instead of looking them all up again.
NOTED = _replace_once(
    _replace_once(
        PREVIOUS,
        "        coalesce(bool_or(a.segregated), false) AS segregated\n",
        "        coalesce(bool_or(a.segregated), false) AS segregated,\n"
        "        array_agg(DISTINCT n.entry_id) FILTER (WHERE a.segregated) AS touched\n",
    ),
    """            WITH touched AS (
                SELECT DISTINCT n.entry_id FROM new_postings n
                CROSS JOIN LATERAL (
                    SELECT segregated FROM accounts WHERE id = n.account_id LIMIT 1
                ) a
                WHERE a.segregated
            )""",
    """            WITH touched AS (SELECT unnest(acc.touched) AS entry_id)""",
)

APPLY_POSTINGS = _replace_once(
    _replace_once(
        _replace_once(
            NOTED,
            "    fees_due numeric;\nBEGIN",
            "    fees_due numeric;\n    dist record;\n    strays bigint;\nBEGIN",
        ),
        "                min(a.owner_id) FILTER (WHERE a.segregated) AS fund_id,\n",
        "                min(a.owner_id) FILTER (WHERE a.segregated) AS fund_id,\n"
        "                min(a.code) FILTER (WHERE a.segregated) AS fund_account,\n",
    ),
    "            IF seg.purpose IN ('deposit', 'refund') THEN\n",
    DISTRIBUTION_SECTION.lstrip("\n")
    + "            IF seg.purpose IN ('deposit', 'refund') THEN\n",
)


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "distribution_batches",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "fund_id", "period_number", "batch", name=op.f("pk_distribution_batches")
        ),
    )
    op.create_table(
        "distribution_lines",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "gross - tax = net AND net >= 0 AND tax >= 0",
            name=op.f("ck_distribution_lines_net_is_gross_less_tax"),
        ),
        sa.PrimaryKeyConstraint(
            "fund_id", "period_number", "investor_id", name=op.f("pk_distribution_lines")
        ),
    )
    op.create_index(
        "ix_distribution_lines_batch",
        "distribution_lines",
        ["fund_id", "period_number", "batch"],
        unique=False,
    )
    op.create_table(
        "distributions",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("business_owes", sa.BigInteger(), nullable=False),
        sa.Column("fees_total", sa.BigInteger(), nullable=False),
        sa.Column("success_fee", sa.BigInteger(), nullable=False),
        sa.Column("total_gross", sa.BigInteger(), nullable=False),
        sa.Column("total_tax", sa.BigInteger(), nullable=False),
        sa.Column("total_net", sa.BigInteger(), nullable=False),
        sa.Column("investor_count", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("payment_reference", sa.Text(), nullable=True),
        sa.Column("reference_normalised", sa.Text(), nullable=True),
        sa.Column("payment_due", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("deposit_id", sa.Uuid(), nullable=True),
        sa.Column("bank_id", sa.Text(), nullable=True),
        sa.Column("batches_posted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("payout_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('declared', 'funded', 'paid')", name=op.f("ck_distributions_status_known")
        ),
        sa.CheckConstraint(
            "(payment_reference IS NULL) = (business_owes = 0)",
            name=op.f("ck_distributions_reference_when_owed"),
        ),
        sa.CheckConstraint(
            "batches_posted BETWEEN 0 AND batches",
            name=op.f("ck_distributions_batches_posted_in_range"),
        ),
        sa.CheckConstraint(
            "business_owes = fees_total + total_gross + success_fee",
            name=op.f("ck_distributions_owes_adds_up"),
        ),
        sa.CheckConstraint(
            "total_gross - total_tax = total_net",
            name=op.f("ck_distributions_net_is_gross_less_tax"),
        ),
        sa.PrimaryKeyConstraint("fund_id", "period_number", name=op.f("pk_distributions")),
        sa.UniqueConstraint(
            "reference_normalised", name=op.f("uq_distributions_reference_normalised")
        ),
    )
    op.create_table(
        "distribution_fees",
        sa.Column("fund_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_distribution_fees_amount_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_distribution_fees_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint(
            "fund_id", "kind", "fiscal_year", name=op.f("pk_distribution_fees")
        ),
    )
    op.add_column("deposits", sa.Column("fund_id", sa.Uuid(), nullable=True))
    op.add_column("deposits", sa.Column("period_number", sa.Integer(), nullable=True))
    op.add_column(
        "payouts",
        sa.Column("settled_in_batch", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_index(op.f("ix_payouts_pending_entry_id"), "payouts", ["pending_entry_id"])
    # ### end Alembic commands ###
    op.drop_constraint("ck_accounts_code_in_chart", "accounts", type_="check")
    op.execute(
        f"ALTER TABLE accounts ADD CONSTRAINT ck_accounts_code_in_chart CHECK ({CHART}) NOT VALID"
    )
    # Once per distribution: the business's payment (rule: check_distribution).
    op.create_index(
        "uq_journal_entries_distribution_payment_once",
        "journal_entries",
        ["reference_id"],
        unique=True,
        postgresql_where=sa.text("purpose = 'deposit' AND reference_type = 'distribution'"),
    )
    op.execute(APPLY_POSTINGS)


def downgrade() -> None:
    op.execute(PREVIOUS)
    op.drop_index("uq_journal_entries_distribution_payment_once", table_name="journal_entries")
    op.drop_constraint("ck_accounts_code_in_chart", "accounts", type_="check")
    op.execute(
        "ALTER TABLE accounts ADD CONSTRAINT ck_accounts_code_in_chart "
        f"CHECK ({OLD_CHART}) NOT VALID"
    )
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(op.f("ix_payouts_pending_entry_id"), table_name="payouts")
    op.drop_column("payouts", "settled_in_batch")
    op.drop_column("deposits", "period_number")
    op.drop_column("deposits", "fund_id")
    op.drop_table("distribution_fees")
    op.drop_table("distributions")
    op.drop_index("ix_distribution_lines_batch", table_name="distribution_lines")
    op.drop_table("distribution_lines")
    op.drop_table("distribution_batches")
    # ### end Alembic commands ###
