"""Verifying banks, payout instructions and account reads, refunded subscriptions,
and the per-issuer limit over the past year instead of the calendar year.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumiai.migrations import append_only_v1

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('placed', 'confirmed')"


def upgrade() -> None:
    op.add_column("investors", sa.Column("verifying_bank_id", sa.Text(), nullable=True))

    # -- Refunded subscriptions --------------------------------------------------------------
    op.add_column("subscriptions", sa.Column("refund_reason", sa.Text(), nullable=True))
    op.add_column(
        "subscriptions", sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_constraint("ck_subscriptions_status_known", "subscriptions", type_="check")
    op.create_check_constraint(
        "ck_subscriptions_status_known",
        "subscriptions",
        "status IN ('placed', 'confirmed', 'cancelled', 'refunded')",
    )
    # Paid subscriptions of funds that already failed were refunded by the ledger at close;
    # until now they stayed "confirmed" here (holdings, yearly limit). Say what happened.
    op.execute(
        "UPDATE subscriptions AS s SET status = 'refunded', refund_reason = 'fund_failed', "
        "refunded_at = coalesce(o.closed_at, now()) FROM offerings AS o "
        "WHERE o.fund_id = s.fund_id AND o.status = 'closed_failed' AND s.status = 'confirmed'"
    )
    op.create_check_constraint(
        "ck_subscriptions_refund_recorded",
        "subscriptions",
        "(status = 'refunded') = (refund_reason IS NOT NULL AND refunded_at IS NOT NULL) "
        "AND (status <> 'refunded' OR amount_paid IS NOT NULL)",
    )
    op.create_check_constraint(
        "ck_subscriptions_refund_reason_known",
        "subscriptions",
        "refund_reason IS NULL OR refund_reason IN ('fund_failed')",
    )

    # -- The per-issuer limit over the past year ---------------------------------------------
    # The limit is now summed from the subscriptions themselves (placed_at, live status);
    # issuer_commitments keeps one row per investor and issuer, the lock that serialises
    # their subscriptions. Its rows are derived from the subscriptions (the old per-year
    # amounts are sums of them).
    op.create_index(
        "ix_subscriptions_issuer_window",
        "subscriptions",
        ["investor_id", "msme_id", "placed_at"],
        unique=False,
        postgresql_where=LIVE,
    )
    op.drop_table("issuer_commitments")
    op.create_table(
        "issuer_commitments",
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("last_placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_issuer_commitments_investor_id_investors"),
        ),
        sa.PrimaryKeyConstraint("investor_id", "msme_id", name=op.f("pk_issuer_commitments")),
    )
    op.execute(
        "INSERT INTO issuer_commitments (investor_id, msme_id, last_placed_at) "
        "SELECT investor_id, msme_id, max(placed_at) FROM subscriptions "
        "GROUP BY investor_id, msme_id"
    )
    op.drop_column("subscriptions", "commitment_year")

    # -- Payouts to investors and who read their accounts -------------------------------------
    op.create_table(
        "payout_instructions",
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("bank_id", sa.Text(), nullable=False),
        sa.Column("fund_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("instructed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payout_instructions_amount_positive")),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_payout_instructions_investor_id_investors"),
        ),
        sa.PrimaryKeyConstraint("payout_id", name=op.f("pk_payout_instructions")),
    )
    op.create_index(
        "ix_payout_instructions_investor_bank",
        "payout_instructions",
        ["investor_id", "bank_id", "instructed_at"],
        unique=False,
    )
    op.create_table(
        "payout_account_reads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=True),
        sa.Column("reader_role", sa.Text(), nullable=False),
        sa.Column("reader_tenant", sa.Text(), nullable=False),
        sa.Column("reader_subject", sa.Text(), nullable=False),
        sa.Column(
            "read_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "reader_role IN ('investor', 'staff', 'bank')",
            name=op.f("ck_payout_account_reads_reader_role_known"),
        ),
        sa.CheckConstraint(
            "reader_role <> 'bank' OR payout_id IS NOT NULL",
            name=op.f("ck_payout_account_reads_bank_names_payout"),
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_payout_account_reads_investor_id_investors"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["payout_instructions.payout_id"],
            name=op.f("fk_payout_account_reads_payout_id_payout_instructions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_account_reads")),
    )
    op.create_index(
        "ix_payout_account_reads_investor",
        "payout_account_reads",
        ["investor_id", "read_at"],
        unique=False,
    )
    # What the ledger instructed, and every look at an investor's bank account, stay as written.
    append_only_v1("payout_instructions", "payout_account_reads")


def downgrade() -> None:
    op.drop_table("payout_account_reads")
    op.drop_table("payout_instructions")

    op.add_column("subscriptions", sa.Column("commitment_year", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE subscriptions SET commitment_year = "
        "extract(year FROM placed_at AT TIME ZONE 'Asia/Tokyo')::int"
    )
    op.alter_column("subscriptions", "commitment_year", nullable=False)
    op.drop_table("issuer_commitments")
    op.create_table(
        "issuer_commitments",
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_issuer_commitments_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_issuer_commitments_investor_id_investors"),
        ),
        sa.PrimaryKeyConstraint(
            "investor_id", "msme_id", "year", name=op.f("pk_issuer_commitments")
        ),
    )
    op.execute(
        "INSERT INTO issuer_commitments (investor_id, msme_id, year, amount) "
        "SELECT investor_id, msme_id, commitment_year, sum(units::bigint * unit_price) "
        f"FROM subscriptions WHERE {LIVE} GROUP BY investor_id, msme_id, commitment_year"
    )
    op.drop_index(
        "ix_subscriptions_issuer_window", table_name="subscriptions", postgresql_where=LIVE
    )

    op.drop_constraint("ck_subscriptions_refund_reason_known", "subscriptions", type_="check")
    op.drop_constraint("ck_subscriptions_refund_recorded", "subscriptions", type_="check")
    # The old schema knows no refunded status; those rows were confirmed (paid) before.
    op.execute("UPDATE subscriptions SET status = 'confirmed' WHERE status = 'refunded'")
    op.drop_constraint("ck_subscriptions_status_known", "subscriptions", type_="check")
    op.create_check_constraint(
        "ck_subscriptions_status_known",
        "subscriptions",
        "status IN ('placed', 'confirmed', 'cancelled')",
    )
    op.drop_column("subscriptions", "refunded_at")
    op.drop_column("subscriptions", "refund_reason")
    op.drop_column("investors", "verifying_bank_id")
